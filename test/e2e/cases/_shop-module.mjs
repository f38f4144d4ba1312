// The shop's checkout module, as released: its static import carries a query, as bundlers write them.
import './bundle.js?lang=en';
(window.__markers = window.__markers || []).push('shop-module');
