// Small helpers every page may use; the pages work without them.

// "Use my location" on a location group: fills its lat/lng fields from the phone's position.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-locate]");
  if (!button) return;
  const name = button.dataset.locate;
  const status = document.querySelector(`[data-locate-status="${name}"]`);
  const failed = () => { if (status) status.textContent = button.dataset.failed; };
  if (!navigator.geolocation) return failed();
  button.disabled = true;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      button.disabled = false;
      document.getElementById(`f-${name}.lat`).value = position.coords.latitude.toFixed(6);
      document.getElementById(`f-${name}.lng`).value = position.coords.longitude.toFixed(6);
      if (status) status.textContent = "✓";
    },
    () => { button.disabled = false; failed(); },
    {enableHighAccuracy: true, timeout: 15000},
  );
});
