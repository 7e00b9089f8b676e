"""What every notebook does first: find the run folder, set the house style, show the banner.

Kept tiny on purpose: notebooks call `nb.start(...)` in the cell after `parameters`, so a
notebook opened by hand in JupyterLab and one executed by papermill behave the same.
"""
from __future__ import annotations

from pathlib import Path

from IPython.display import HTML, display

from . import paths

BANNER = {
    "lv": "SINTĒTISKI DATI: šis pārskats veidots no mākslīgi ģenerētas izlases, nevis no "
          "īstām iedzīvotāju atbildēm. Skaitļi ilustrē metodi, ne Liepājas iedzīvotāju viedokli.",
    "en": "SYNTHETIC DATA: this report was made from an artificially generated sample, not "
          "from real residents' answers. The figures illustrate the method, not residents' views.",
}


def banner(synthetic: bool, lang: str = "lv") -> None:
    """Show the synthetic-data banner (an output cell, so it survives 'code hidden')."""
    if synthetic:
        # tagged so the HTML renderer can swap it for the template's sticky banner
        display(HTML(f'<div class="synthetic-banner" role="alert">{BANNER.get(lang, BANNER["lv"])}</div>'),
                metadata={"report": "banner"})


def start(survey: str, run_dir: str = "", synthetic: bool = False, lang: str = "lv") -> dict[str, Path]:
    """Resolve the run folder (scratch when opened by hand), apply the plot style, show the banner."""
    from . import plots  # local import: keeps `import analysis` light for the CLI

    plots.apply_style()
    import pandas as pd

    # questions and statements are long: show them whole in tables rather than cut with "..."
    pd.set_option("display.max_colwidth", 250)
    pd.set_option("display.max_rows", 200)
    base = Path(run_dir) if run_dir else paths.default_run_dir(survey)
    dirs = paths.run_dirs(base)
    banner(synthetic, lang)
    return dirs
