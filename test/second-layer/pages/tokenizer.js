// The gateway's tokenizer, as pinned in the policy.
window.tokenizerLoaded = 'genuine';
