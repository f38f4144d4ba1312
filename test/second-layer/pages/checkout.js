// The shop's checkout controller (release 42): formats the card number field as the customer types.
document.addEventListener('input', (event) => {
  const field = event.target;
  if (field instanceof HTMLInputElement && field.name === 'cc') field.value = field.value.replace(/[^0-9 ]/g, '');
});
window.checkoutReady = true;
