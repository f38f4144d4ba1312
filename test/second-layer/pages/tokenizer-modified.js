// The gateway's tokenizer after the gateway's CDN was compromised (the Ticketmaster 2018 case).
window.tokenizerLoaded = 'modified';
