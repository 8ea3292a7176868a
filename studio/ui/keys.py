"""Browser-side script for the page head: keyboard shortcuts, the display clock, and
asking for a pair while the arena is empty.

Keys 1/2/3/4 (or the arrows: left = A, right = B, up = tie, down = both bad) press the
matching vote button of the pair the rater is looking at. Keys typed into a text box are
left alone, and only the first key press for each pair on screen counts, so a held or
doubled key cannot vote twice. Each pair panel's token changes when a new pair is displayed;
the page notes that moment so the vote can carry the time the rater took.
"""

from __future__ import annotations


def head_script(poll_seconds: float) -> str:
    """The script for the page head (`poll_seconds`: how often an empty arena asks again)."""
    return _HEAD.replace("POLL_MS", str(int(poll_seconds * 1000)))


_HEAD = """
<script>
(() => {
  const KEYS = {"1": "a", "2": "b", "3": "tie", "4": "both_bad",
                "ArrowLeft": "a", "ArrowRight": "b", "ArrowUp": "tie", "ArrowDown": "both_bad"};
  let lastVoted = null;
  window.studioShownAt = window.studioShownAt || {};
  function visible(el) { return el && el.offsetParent !== null && !el.disabled; }
  function typing(target) {
    if (!target) return false;
    const tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function tokenFor(button) {
    const prefix = button.id.split("-vote-")[0];
    const field = document.querySelector(`#${prefix}-token textarea, #${prefix}-token input`);
    return field ? field.value : "";
  }
  document.addEventListener("keydown", (event) => {
    const choice = KEYS[event.key];
    if (!choice || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const button = Array.from(document.querySelectorAll(".studio-vote-" + choice)).find(visible);
    if (!button) return;
    event.preventDefault();
    const token = tokenFor(button);
    // One key vote per pair on screen: a held, repeated or doubled key cannot vote twice.
    if (event.repeat || !token || token === lastVoted) return;
    lastVoted = token;
    button.click();
  });
  // The vote buttons of a pair panel are enabled only while it shows a pair to vote on
  // (a token): not while the pool is dry, not while a free prompt's answers stream in.
  const PANELS = ["arena", "free", "grid"];
  function syncButtons(prefix) {
    const field = document.querySelector(`#${prefix}-token textarea, #${prefix}-token input`);
    const ready = !!(field && field.value);
    document.querySelectorAll(`[id^="${prefix}-vote-"], #${prefix}-submit`).forEach((button) => {
      if (button.disabled === ready) button.disabled = !ready;
    });
    const bar = document.getElementById(`${prefix}-buttons`);
    if (bar) bar.classList.toggle("studio-waiting", !ready);
  }
  window.studioPairShown = (prefix, token) => {
    if (token) window.studioShownAt[token] = performance.now();
    syncButtons(prefix);
    // After a vote on a phone the page is scrolled down to the buttons: bring the new
    // prompt back into view.
    const prompt = document.getElementById(`${prefix}-reveal`) || document.getElementById(`${prefix}-prompt`);
    if (token && prompt && prompt.getBoundingClientRect().top < 0) {
      prompt.scrollIntoView({block: "start"});
    }
  };
  setInterval(() => PANELS.forEach(syncButtons), 250);
  // While the arena has no pair on screen, ask for one every few seconds (a hidden button,
  // so the request goes through the same queue and checks as everything else).
  setInterval(() => {
    const field = document.querySelector("#arena-token textarea, #arena-token input");
    const poll = document.getElementById("arena-poll");
    const tabs = document.getElementById("studio-tabs");
    if (!field || !poll || field.value || !tabs || tabs.offsetParent === null) return;
    poll.click();
  }, POLL_MS);
})();
</script>
"""

def shown_js(prefix: str) -> str:
    """Runs in the browser when a panel's token changes (a new pair or grid is on screen):
    notes the moment, enables its buttons and scrolls its prompt into view."""
    return f'(token) => {{ window.studioPairShown("{prefix}", token); return []; }}'

# Runs in the browser before a vote is sent: adds the milliseconds since the pair appeared.
STAMP_DECISION_JS = """(token, rationale, ms, ...rest) => {
  const shown = (window.studioShownAt || {})[token];
  return [token, rationale, shown === undefined ? null : Math.round(performance.now() - shown), ...rest];
}"""

# The same for the ranking grid's submit button (its inputs come in another order).
STAMP_GRID_JS = """(best, order, token, ms, ...rest) => {
  const shown = (window.studioShownAt || {})[token];
  return [best, order, token, shown === undefined ? null : Math.round(performance.now() - shown), ...rest];
}"""
