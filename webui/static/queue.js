// The queue's tabs, counts and list refresh in place every 20 s, without a full reload;
// tasks someone has ticked stay ticked, and the header's inbox count comes along.
async function refreshQueue() {
  const box = document.getElementById("queue-live");
  const url = new URL(window.location.href);
  url.searchParams.set("partial", "live");
  const response = await fetch(url, {credentials: "same-origin"});
  if (!response.ok) return;
  const ticked = new Set([...box.querySelectorAll("input[name=task]:checked")].map((i) => i.value));
  box.innerHTML = await response.text();
  const listed = box.querySelectorAll("input[name=task]");
  for (const input of listed) input.checked = ticked.has(input.value);
  document.getElementById("bulk").hidden = listed.length === 0;  // nothing to select: no bar
  const unread = box.querySelector("[data-unread]").dataset.unread;
  const badge = document.getElementById("unread");
  if (badge) { badge.textContent = unread; badge.hidden = unread === "0"; }
}
window.refreshQueue = refreshQueue;
setInterval(() => { if (!document.hidden) refreshQueue(); }, 20000);
