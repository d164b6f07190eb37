// The 考核 page's charts: the on-time rate of each row and the trend per month, drawn with
// the vendored ECharts from the page's JSON (no inline script: the CSP allows none).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("stats-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var narrow = window.matchMedia("(max-width: 700px)").matches;
    var percent = function (v) { return v === null ? null : Math.round(v * 1000) / 10; };
    var rows = echarts.init(document.getElementById("chart-rows"), null, { renderer: "svg" });
    rows.setOption({
      animation: false,
      grid: { left: narrow ? 84 : 140, right: 24, top: 16, bottom: 24 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "–" : v + "%"; } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: {
        type: "category", inverse: true, data: data.names,
        axisLabel: { width: narrow ? 76 : 130, overflow: "truncate" }
      },
      series: [{ name: data.labels.on_time_rate, type: "bar", data: data.on_time_rate.map(percent), itemStyle: { color: "#2f6f4f" } }]
    });
    var trend = echarts.init(document.getElementById("chart-trend"), null, { renderer: "svg" });
    trend.setOption({
      animation: false,
      legend: { top: 0 },
      grid: { left: 40, right: 40, top: 36, bottom: 24 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.map(function (m) { return m.month; }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: data.labels.dispatched, type: "bar", data: data.trend.map(function (m) { return m.dispatched; }) },
        { name: data.labels.rectified, type: "bar", data: data.trend.map(function (m) { return m.rectified; }) },
        { name: data.labels.on_time_rate, type: "line", yAxisIndex: 1, data: data.trend.map(function (m) { return percent(m.on_time_rate); }) }
      ]
    });
    window.addEventListener("resize", function () { rows.resize(); trend.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
