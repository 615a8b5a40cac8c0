// presence's browser part (issue 14). Runs as the MV3 service worker in Chromium-family
// browsers and as the background script in Firefox; the same file for both.
//
// What it does:
//   - reports the active tab's site to presence's native host when a browser window has the
//     focus: the registrable domain by default, the full URL only when the host says the user's
//     `privacy.sites` setting is "url", nothing when it is "off";
//   - never reads private/incognito windows ("incognito": "not_allowed" in the manifest keeps
//     them from the extension altogether; the checks below are a second fence);
//   - replaces tabs of sites blocked by a focus rule in force with its own calm page, keeping
//     the tab's address so the user can return.
// It talks only to the native host (runtime.connectNative): no network, no listening port.
"use strict";

const api = typeof browser !== "undefined" ? browser : chrome;
const HOST = "io.github.presence_desktop.presence";
const RECONNECT_MS = 5000;

// Suffixes under which names are registered one level deeper than the last label (a compact
// part of the Public Suffix List: the common country second levels and hosting platforms).
// Limitation: a suffix missing here gives its owner's domain instead (e.g. "foo.example.uk"
// for an unknown "example.uk" suffix gives "example.uk"). Kept equal to tracking/sites.py.
const SUFFIXES = new Set([
  "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk",
  "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "net.nz",
  "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr", "com.br", "net.br",
  "org.br", "com.cn", "net.cn", "org.cn", "gov.cn", "com.hk", "com.tw", "com.sg",
  "com.mx", "com.ar", "com.tr", "com.pl", "co.in", "net.in", "org.in", "co.za", "org.za",
  "co.il", "com.ua", "com.ru", "co.id", "com.my", "com.ph", "com.vn", "com.eg", "com.sa",
  "github.io", "gitlab.io", "pages.dev", "workers.dev", "netlify.app", "vercel.app",
  "herokuapp.com", "blogspot.com", "appspot.com", "web.app", "firebaseapp.com",
  "azurewebsites.net", "cloudfront.net", "s3.amazonaws.com", "fly.dev", "onrender.com",
  "readthedocs.io", "substack.com", "tumblr.com", "wordpress.com", "neocities.org",
]);

function registrableDomain(hostname) {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (!host || host.includes(":") || /^\d+(\.\d+){3}$/.test(host)) return host;
  const labels = host.split(".");
  if (labels.length <= 2) return host;
  for (let i = 1; i < labels.length - 1; i++) {
    if (SUFFIXES.has(labels.slice(i).join("."))) return labels.slice(i - 1).join(".");
  }
  return labels.slice(-2).join(".");
}

function webUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch (e) {
    return null;
  }
}

// -- the native host --------------------------------------------------------------------------

let port = null;
let mode = "domain"; // privacy.sites as the host says: domain, url or off
let blocked = []; // [{rule, sites: [...], until: epoch seconds or null, strict}]
let lastSent = "";
const waiting = new Map(); // snooze request id -> sendResponse
let nextId = 1;

function connect() {
  try {
    port = api.runtime.connectNative(HOST);
  } catch (e) {
    port = null;
    setTimeout(connect, RECONNECT_MS);
    return;
  }
  port.onMessage.addListener(onHostMessage);
  port.onDisconnect.addListener(() => {
    const error = api.runtime.lastError;
    api.storage.local.set({ hostError: error ? String(error.message) : "disconnected" });
    port = null;
    lastSent = "";
    for (const reply of waiting.values()) reply({ ok: false, message: "presence's host stopped" });
    waiting.clear();
    setTimeout(connect, RECONNECT_MS);
  });
  port.postMessage({ type: "hello", version: api.runtime.getManifest().version });
  report();
}

function onHostMessage(message) {
  if (message.type === "settings") {
    mode = message.sites || "domain";
    lastSent = "";
    report();
  } else if (message.type === "blocked") {
    blocked = message.rules || [];
    sweep();
  } else if (message.type === "snooze-result") {
    const reply = waiting.get(message.id);
    waiting.delete(message.id);
    if (reply) reply({ ok: message.ok, message: message.message });
  }
}

function send(message) {
  if (port) port.postMessage(message);
}

// -- reporting the focused tab ------------------------------------------------------------------

async function focusedTab() {
  let win;
  try {
    win = await api.windows.getLastFocused({ populate: false });
  } catch (e) {
    return null;
  }
  if (!win || !win.focused || win.incognito) return null;
  const tabs = await api.tabs.query({ active: true, windowId: win.id });
  const tab = tabs[0];
  return tab && !tab.incognito ? tab : null;
}

async function report() {
  const tab = await focusedTab();
  const message = { type: "focus", focused: tab !== null, site: null, url: null };
  if (tab) {
    const url = webUrl(tab.url || tab.pendingUrl || "");
    if (url && mode !== "off") {
      message.site = registrableDomain(url.hostname);
      if (mode === "url") message.url = url.href;
    }
  }
  const text = JSON.stringify(message);
  if (text !== lastSent) {
    lastSent = text;
    send(message);
  }
}

// -- blocking ---------------------------------------------------------------------------------

function blockFor(text) {
  const url = webUrl(text);
  if (!url) return null;
  const host = url.hostname.toLowerCase();
  const now = Date.now() / 1000;
  for (const item of blocked) {
    if (item.until !== null && item.until <= now) continue;
    for (const site of item.sites) {
      if (host === site || host.endsWith("." + site)) return { ...item, site };
    }
  }
  return null;
}

function blockPage(url) {
  return api.runtime.getURL("blocked.html") + "?url=" + encodeURIComponent(url);
}

function guard(tab) {
  if (!tab || tab.incognito) return;
  const url = tab.pendingUrl || tab.url || "";
  if (blockFor(url)) api.tabs.update(tab.id, { url: blockPage(url) });
}

async function sweep() {
  for (const tab of await api.tabs.query({})) guard(tab);
}

// -- events -----------------------------------------------------------------------------------

api.tabs.onActivated.addListener(() => report());
api.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (change.url) guard(tab);
  if (change.url || change.status === "complete") report();
});
api.windows.onFocusChanged.addListener(() => report());
// Focus moving to a window the extension may not see (a private one) is not always announced:
// check four times a second too. Only changes are sent (see report()).
setInterval(report, 250);

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only the extension's own block page talks to the background.
  if (sender.id !== api.runtime.id) return false;
  if (message.type === "block-info") {
    sendResponse({ block: blockFor(message.url), connected: port !== null });
    return false;
  }
  if (message.type === "snooze" || message.type === "override") {
    if (!port) {
      sendResponse({ ok: false, message: "presence's native host is not running" });
      return false;
    }
    const id = nextId++;
    waiting.set(id, sendResponse);
    send({ type: message.type, id, rule: message.rule, reason: message.reason || null });
    return true; // answered when the host replies
  }
  return false;
});

connect();
