// Starts the vendored Swagger UI on the spec this appliance serves (kept out of the page so the
// page needs no inline script under the CSP).
'use strict';
(function () {
  const root = document.getElementById('openapi');
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    dom_id: '#openapi',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    oauth2RedirectUrl: window.location.origin + '/assets/docs/swagger-ui/oauth2-redirect.html',
  });
})();
