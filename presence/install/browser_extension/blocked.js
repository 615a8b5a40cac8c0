// The calm page shown instead of a blocked site (issue 14): the rule, the time left, the
// address kept, and a snooze and an override whose requests go through presence's native host
// to the same rulebook functions the CLI uses, with the same costs.
"use strict";

const api = typeof browser !== "undefined" ? browser : chrome;
const target = new URLSearchParams(location.search).get("url") || "";
const $ = (id) => document.getElementById(id);
let block = null;

function minutesLeft(until) {
  return Math.max(1, Math.ceil((until - Date.now() / 1000) / 60));
}

function render() {
  $("address").textContent = target;
  if (!block) {
    // The rule is over or was snoozed: back to where the user was going.
    if (target) location.replace(target);
    return;
  }
  const what = { limit: "Daily limit reached", "tech-free": "Tech-free time" };
  $("headline").textContent = `${what[block.kind] || "Focus time"}: ${block.rule}`;
  $("what").textContent = `${block.site} is kept away by the rule "${block.rule}".`;
  $("left").textContent =
    block.until === null ? "" : `${minutesLeft(block.until)} min left.`;
  $("snooze-button").hidden = Boolean(block.strict);
  $("override").hidden = Boolean(block.strict);
  if (block.strict) $("message").textContent = "This rule is strict: no snoozing.";
}

async function refresh() {
  const answer = await api.runtime.sendMessage({ type: "block-info", url: target });
  block = answer.block;
  render();
}

$("snooze").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!block) return;
  const reason = $("reason").value.trim();
  const answer = await api.runtime.sendMessage({ type: "snooze", rule: block.rule, reason });
  $("message").textContent = answer.message || "";
  if (answer.ok) {
    await refresh();
  } else if (/reason/.test(answer.message || "")) {
    $("reason-label").hidden = false;
    $("reason").focus();
  }
});

// The override costs what `presence override --reason` costs: the host calls the same
// function, which wants a reason and counts the rule set's overrides a week.
$("override").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!block) return;
  const reason = $("override-reason").value.trim();
  if (!reason) {
    $("message").textContent = "An override costs a reason: say why.";
    $("override-reason").focus();
    return;
  }
  const answer = await api.runtime.sendMessage({ type: "override", rule: block.rule, reason });
  $("message").textContent = answer.message || "";
  if (answer.ok) await refresh();
});

refresh();
setInterval(refresh, 15000);
