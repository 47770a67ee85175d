// Starts Swagger UI on /docs. A file rather than an inline script, so that the page runs
// under the same strict Content-Security-Policy as every other page.
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No badge from validator.swagger.io: the page loads nothing from elsewhere.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
