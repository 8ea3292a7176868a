"""Look of the app: system fonts only (the page fetches nothing from outside the studio)
and outputs at a readable size."""

from __future__ import annotations

import gradio as gr

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
.studio-output pre { white-space: pre-wrap; }
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
"""
