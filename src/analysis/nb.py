"""What every notebook does first: find the run folder, set the house style, show the banner.

Kept tiny on purpose: notebooks call `nb.start(...)` in the cell after `parameters`, so a
notebook opened by hand in JupyterLab and one executed by papermill behave the same.
"""
from __future__ import annotations

from pathlib import Path

from IPython.display import HTML, display

from . import paths

def _banner_text(lang: str) -> str:
    """The synthetic-data banner, from the text tables (report_banner_short + _long)."""
    from .report import t

    return f'{t("report_banner_short", lang)}. {t("report_banner_long", lang)}'


def banner(synthetic: bool, lang: str = "lv") -> None:
    """Show the synthetic-data banner (an output cell, so it survives 'code hidden')."""
    if synthetic:
        # tagged so the HTML renderer can swap it for the template's sticky banner
        import html

        display(HTML(f'<div class="synthetic-banner" role="note">{html.escape(_banner_text(lang))}</div>'),
                metadata={"report": "banner"})


def say(text: str) -> None:
    """A sentence of the narrative computed from data, shown as an (escaped) paragraph."""
    import html

    display(HTML(f"<p>{html.escape(str(text))}</p>"))


def md(text: str) -> None:
    """Prose from the text tables (`report.t`, trusted Markdown: headings, `code`), shown as an
    output so that a notebook's words follow `report_lang` (nbconvert anchors its headings)."""
    from IPython.display import Markdown

    display(Markdown(str(text)))


def title(text: str) -> None:
    """The page's level-1 heading as an output (the report takes the page title from it)."""
    import html

    display(HTML(f'<h1 id="page-title">{html.escape(str(text))}</h1>'))


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


def start(survey: str, run_dir: str = "", synthetic: bool = False, lang: str = "lv",
          params_file: str | None = None) -> dict[str, Path]:
    """Resolve the run folder (scratch when opened by hand), apply the plot style, show the banner.

    Opened by hand (no `run_dir`), a notebook may name a params file in its `params_file`
    parameter: its values replace the parameters cell's defaults in the notebook's namespace.
    The first output then says which params file, run folder and data the notebook reads."""
    from . import plots  # local import: keeps `import analysis` light for the CLI

    by_hand = not run_dir
    params_path = None
    if by_hand:
        survey, synthetic, lang, params_path = _apply_params_file(survey, synthetic, lang, params_file)
    plots.apply_style(lang)
    import pandas as pd

    # questions and statements are long: show them whole in tables rather than cut with "..."
    pd.set_option("display.max_colwidth", 250)
    pd.set_option("display.max_rows", 200)
    _install_table_format()
    base = Path(run_dir) if run_dir else paths.default_run_dir(survey)
    dirs = paths.run_dirs(base)
    if by_hand:
        provenance(survey, dirs["run"], params_path, lang)
    banner(synthetic, lang)
    return dirs


def _namespace() -> dict:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _apply_params_file(survey, synthetic, lang, params_file):
    """Read `params_file` (relative to the notebook's folder, else to the project root) into
    the notebook's namespace: only the parameters the notebook declares are replaced."""
    ns = _namespace()
    if params_file is None:
        params_file = ns.get("params_file") or ""
    named = bool(params_file)
    if not named:
        # no params file named: the parameters the cell leaves empty ("" or {} or []) are filled
        # from the project's default params file (params/DEFAULT), the ones set by hand are kept
        params_file = paths.DEFAULT_PARAMS
    p = Path(params_file).expanduser()
    if not p.is_absolute():
        p = Path.cwd() / p if (Path.cwd() / p).exists() else paths.ROOT / p
    if not named and not p.exists():
        return survey, synthetic, lang, None
    params = paths.load_params(p)
    # an empty survey name means the default survey, whose synthetic flag comes with it
    default_survey = not survey
    filled = {}
    for key, value in params.items():
        if key in ("run_dir", "params_file"):
            continue
        fill = named or (key == "synthetic" and default_survey)
        if key in ns and (fill or _is_empty(ns[key])):
            ns[key] = value
            filled[key] = value
        elif key == "survey" and (named or default_survey):
            filled[key] = value
    if not named and not filled:
        return survey, synthetic, lang, None
    return (filled.get("survey", survey), filled.get("synthetic", synthetic),
            filled.get("report_lang", lang), p.resolve())


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, (str, dict, list, tuple)) and len(value) == 0)


def provenance(survey: str, run_dir: Path, params_path: Path | None, lang: str = "lv") -> None:
    """Say what a notebook opened by hand reads: params file, run folder, data."""
    import html

    from .report import t

    ns = _namespace()
    lines = [t("run_provenance_params", lang, params=params_path) if params_path
             else t("run_provenance_defaults", lang),
             t("run_provenance_run_dir", lang, run_dir=run_dir)]
    inputs = ns.get("inputs")
    if isinstance(inputs, dict) and inputs:
        listed = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                           for k, v in inputs.items())
        lines.append(t("run_provenance_inputs", lang, inputs=listed))
    else:
        last = paths.latest_run(paths.survey_dir(survey))
        lines.append(t("run_provenance_earlier", lang,
                       latest=last.resolve() if last else t("run_provenance_no_latest", lang)))
    display(HTML("".join(f"<p>{html.escape(str(line))}</p>" for line in lines)),
            metadata={"report": "provenance"})
