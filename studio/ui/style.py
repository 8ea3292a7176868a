"""Look of the app: system fonts only (the page fetches nothing from outside the studio)
and outputs at a readable size."""

from __future__ import annotations

import gradio as gr

from studio.ui.render import code_css

SYSTEM_SANS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "DejaVu Sans", "sans-serif"]
SYSTEM_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "DejaVu Sans Mono", "monospace"]


def theme() -> gr.themes.Base:
    return gr.themes.Default(font=SYSTEM_SANS, font_mono=SYSTEM_MONO)


CSS = """
.studio-header { align-items: center; gap: 1rem; }
.studio-title { font-size: 1.25rem; font-weight: 700; }
.studio-badge { font-size: 0.75rem; padding: 0 0.4rem; border-radius: 0.5rem;
                background: var(--color-accent-soft); }
.studio-prompt { font-size: 1.05rem; padding: 0.75rem 1rem; border-left: 4px solid var(--color-accent);
                 background: var(--background-fill-secondary); border-radius: 0.25rem; }
.studio-label { font-weight: 700; font-size: 1.1rem; }
.studio-side-body { min-height: 8rem; }
.studio-output { font-size: 1rem; line-height: 1.5; overflow-wrap: anywhere; }
.studio-image { width: 100%; max-width: 512px; min-width: 256px; height: auto;
                image-rendering: auto; border-radius: 0.25rem; }
.studio-grid { display: grid; grid-template-columns: repeat(2, minmax(256px, 1fr)); gap: 0.75rem; }
.studio-cell { margin: 0; }
.studio-cell figcaption { font-weight: 700; font-size: 1.1rem; }
.studio-note { padding: 0.5rem 0; color: var(--body-text-color-subdued); }
.studio-reveal-body { padding: 0.4rem 0.75rem; border-radius: 0.25rem; background: var(--color-accent-soft); }
.studio-side { padding: 0.75rem !important; }
.studio-progress { width: 100%; height: 0.9rem; }
.studio-keys { font-size: 0.85rem; color: var(--body-text-color-subdued); }
.studio-keys kbd { border: 1px solid var(--border-color-primary); border-radius: 0.2rem; padding: 0 0.3rem; }
.studio-missing { color: var(--error-text-color); }
.studio-hidden { display: none !important; }
/* answers start at the same height, whatever their length */
.studio-pair { align-items: flex-start !important; }
.studio-side { justify-content: flex-start !important; align-self: flex-start !important; }
/* the vote buttons stay reachable at the bottom of the screen while the answers scroll */
/* (fixed, not sticky: Gradio's columns clip overflow, which turns sticky off) */
.studio-buttons { position: fixed !important; left: 0; right: 0; bottom: 0; z-index: 1000; margin: 0 !important;
                  padding: 0.5rem max(1rem, calc((100vw - 1280px) / 2)) !important;
                  background: var(--background-fill-primary); box-shadow: 0 -2px 6px rgba(0, 0, 0, 0.12); }
#tab-arena, #tab-free { padding-bottom: 5rem; }
.studio-buttons.studio-waiting button { opacity: 0.45; cursor: not-allowed; }
.studio-grid-controls.studio-waiting { display: none !important; }
.studio-code { position: relative; margin: 0.5rem 0; border: 1px solid var(--border-color-primary);
               border-radius: 0.35rem; background: #f6f8fa; color: #1f2328; }
.studio-code pre { margin: 0; padding: 0.6rem 0.75rem; white-space: pre-wrap; background: transparent;
                   font-family: var(--font-mono); font-size: 0.9rem; line-height: 1.4; }
.studio-code-lang { position: absolute; top: 0.1rem; right: 0.5rem; font-size: 0.7rem; color: #57606a; }
.studio-truncated { margin-top: 0.5rem; padding-top: 0.3rem; border-top: 1px dashed var(--border-color-primary);
                    font-size: 0.85rem; font-style: italic; color: var(--body-text-color-subdued); }
.studio-dry { font-size: 1.05rem; padding: 1rem; border: 1px dashed var(--border-color-primary);
              border-radius: 0.4rem; background: var(--background-fill-secondary); }
.studio-reveal-body { font-size: 0.9rem; }
.studio-reveal-prompt { color: var(--body-text-color-subdued); margin: 0.15rem 0; }
.studio-reveal-sides { display: flex; gap: 0.75rem; flex-wrap: wrap; }
.studio-reveal-side { flex: 1 1 14rem; min-width: 0; padding: 0.25rem 0.5rem; border-radius: 0.25rem;
                      background: var(--background-fill-primary); }
.studio-reveal-won { outline: 2px solid var(--color-accent); }
.studio-reveal-label { display: block; }
.studio-reveal-text { display: block; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.studio-header { flex-wrap: wrap !important; row-gap: 0.25rem; }
.studio-header > * { min-width: 0 !important; flex: 0 1 auto !important; width: auto !important; }
.studio-counter, .studio-whoami { white-space: nowrap; }
@media (max-width: 640px) {
  .studio-title { font-size: 1.05rem; }
  .studio-header { gap: 0.25rem 0.75rem !important; }
  .studio-buttons { gap: 0.4rem !important; flex-wrap: wrap !important; padding: 0.4rem 0.5rem !important; }
  #tab-arena, #tab-free { padding-bottom: 7.5rem; }
  .studio-buttons > button { flex: 1 1 40% !important; min-width: 0 !important; padding: 0.4rem !important; }
  .studio-keys { display: none; }
  .studio-side-body { min-height: 0; }
}
"""


def css() -> str:
    """The app's stylesheet with the colours of highlighted code."""
    return CSS + code_css()
