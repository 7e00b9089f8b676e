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


def say(text: str) -> None:
    """A sentence of the narrative computed from data, shown as an (escaped) paragraph."""
    import html

    display(HTML(f"<p>{html.escape(str(text))}</p>"))


def _frame_html(frame) -> str:
    """DataFrames in the reports: always escaped; a meaningless 0, 1, 2... index is hidden."""
    import pandas as pd

    hide = isinstance(frame.index, pd.RangeIndex)
    return frame.to_html(index=not hide, escape=True, na_rep="—", border=0, classes="dataframe",
                         max_rows=pd.get_option("display.max_rows"))


def _install_table_format() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is not None:
        import pandas as pd

        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, _frame_html)


def start(survey: str, run_dir: str = "", synthetic: bool = False, lang: str = "lv") -> dict[str, Path]:
    """Resolve the run folder (scratch when opened by hand), apply the plot style, show the banner."""
    from . import plots  # local import: keeps `import analysis` light for the CLI

    plots.apply_style()
    import pandas as pd

    # questions and statements are long: show them whole in tables rather than cut with "..."
    pd.set_option("display.max_colwidth", 250)
    pd.set_option("display.max_rows", 200)
    _install_table_format()
    base = Path(run_dir) if run_dir else paths.default_run_dir(survey)
    dirs = paths.run_dirs(base)
    banner(synthetic, lang)
    return dirs
