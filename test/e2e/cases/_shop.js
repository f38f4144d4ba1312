(window.__markers = window.__markers || []).push('shop-js');
