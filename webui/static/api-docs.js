// The API's documentation page: Swagger UI over the document this server generates.
window.addEventListener("load", () => {
  const box = document.getElementById("swagger");
  SwaggerUIBundle({url: box.dataset.spec, dom_id: "#swagger", deepLinking: true});
});
