"""Interactive controls for the notebooks, with a static fallback.

    from mlcourse.widgets import interact, slider, log_slider, dropdown

    def show(lr=0.01, epochs=50):
        fig, ax = plt.subplots()
        ...                                       # draw with matplotlib

    interact(show, lr=log_slider(1e-4, 1.0), epochs=slider(10, 200, 10))

In JupyterLab (an IPython kernel with ipywidgets) this shows the controls above an output
area that redraws the figure whenever a control is released. Everywhere else — and
whenever the environment variable MLCOURSE_STATIC=1 (used by the test runs and the site
build) — ``show`` is called once with the default values, so the figure is a regular
output, and one line says which controls JupyterLab would offer.

Controls are the helpers below or ipywidgets-style abbreviations: (min, max[, step]) → a
slider, a list or dict → a drop-down, True/False → a checkbox, a string → a text box,
a number → a slider around it, or any ipywidgets widget. A control without its own value
starts at the function's default for that argument (if it has one), else mid-range.
"""
from __future__ import annotations

import functools
import inspect
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from . import friendly

__all__ = ["interact", "slider", "log_slider", "dropdown", "checkbox", "Control", "is_live"]

# Backends that cannot show a figure: plt.show() there only warns, so we skip it.
_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template"}


@dataclass
class Control:
    """Description of one control; becomes an ipywidgets widget in live mode.

    kind: "slider", "log_slider", "dropdown", "checkbox", "text" or "widget" (an existing
    ipywidgets widget, or ipywidgets.fixed). ``value`` None = not chosen yet (the function's
    default or mid-range is used).
    """

    kind: str
    value: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: Any = None
    description: str | None = None
    readout_format: str | None = None
    widget: Any = field(default=None, repr=False)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def slider(min: float, max: float, step: float | None = None, value: float | None = None,
           description: str | None = None, log: bool = False, readout_format: str | None = None) -> Control:
    """A slider from min to max. Integer slider when min, max (and step) are all ints.

    step: default 1 for ints, (max - min)/100 for floats. log=True → same as
    ``log_slider(min, max, value)``. value: the start (default: the function's default, else mid-range).
    """
    if log:
        return log_slider(min, max, value=value, description=description)
    if not (_number(min) and _number(max)) or not min < max:
        raise ValueError(f"slider: expected numbers min < max, got min={min!r}, max={max!r}")
    if step is not None and (not _number(step) or step <= 0):
        raise ValueError(f"slider: step must be a positive number, got {step!r}")
    integer = all(isinstance(v, int) for v in (min, max)) and (step is None or isinstance(step, int))
    if step is None:
        step = 1 if integer else (max - min) / 100
    kind = "int_slider" if integer else "slider"
    return Control(kind, value, min, max, step, description=description, readout_format=readout_format)


def log_slider(min: float, max: float, value: float | None = None, description: str | None = None,
               steps_per_decade: int = 4) -> Control:
    """A slider on a log scale (``FloatLogSlider``), e.g. for learning rates: log_slider(1e-4, 1).

    min, max: the range in real units (both > 0). steps_per_decade: stops per factor of 10.
    """
    if not (_number(min) and _number(max)) or not 0 < min < max:
        raise ValueError(f"log_slider: expected numbers 0 < min < max, got min={min!r}, max={max!r}")
    return Control("log_slider", value, min, max, 1.0 / steps_per_decade, description=description,
                   readout_format=".2g")


def dropdown(options: Any, value: Any = None, description: str | None = None) -> Control:
    """A drop-down menu. options: a list of values, or a dict {label: value}."""
    values = list(options.values()) if isinstance(options, dict) else list(options)
    if not values:
        raise ValueError("dropdown: options is empty")
    return Control("dropdown", value, options=options, description=description)


def checkbox(value: bool = False, description: str | None = None) -> Control:
    """A check box for a True/False argument."""
    return Control("checkbox", bool(value), description=description)


def _from_abbrev(name: str, abbrev: Any) -> Control:
    """Control from an ipywidgets-style abbreviation."""
    if isinstance(abbrev, Control):
        return abbrev
    if type(abbrev).__module__.startswith("ipywidgets") and hasattr(abbrev, "value"):
        return Control("widget", widget=abbrev)  # a widget, or ipywidgets.fixed
    if isinstance(abbrev, bool):
        return checkbox(abbrev)
    if isinstance(abbrev, str):
        return Control("text", abbrev)
    if isinstance(abbrev, tuple) and len(abbrev) in (2, 3) and all(map(_number, abbrev)):
        return slider(*abbrev)
    if isinstance(abbrev, (list, tuple, dict)):
        return dropdown(abbrev)
    if _number(abbrev):
        # Like ipywidgets: a slider around the number, from -|v| to 3|v|.
        span = abs(abbrev) or 1
        lo, hi = (-span, 3 * span) if abbrev >= 0 else (3 * abbrev, span)
        return Control("int_slider" if isinstance(abbrev, int) else "slider", abbrev, lo, hi,
                       1 if isinstance(abbrev, int) else (hi - lo) / 100)
    raise TypeError(f"interact: control {name!r} = {abbrev!r} is not a control; use slider(), "
                    "log_slider(), dropdown(), checkbox(), a (min, max) tuple or a list of options")


def _snap(c: Control, v: float) -> float:
    """v moved onto the slider's grid (and range)."""
    if c.kind == "log_slider":
        lo, hi = math.log10(c.min), math.log10(c.max)
        e = lo + round((math.log10(v) - lo) / c.step) * c.step
        return 10 ** min(max(e, lo), hi)
    v = c.min + round((v - c.min) / c.step) * c.step
    v = min(max(v, c.min), c.max)
    return int(v) if c.kind == "int_slider" else float(v)


def _start_value(c: Control, name: str, default: Any) -> Any:
    """The control's own value, else the function's default, else mid-range / first option."""
    if c.kind == "widget":
        return c.widget.value
    if c.value is not None or c.kind in ("checkbox", "text"):
        value = c.value
    elif default is not inspect.Parameter.empty:
        value = default
    elif c.kind == "dropdown":
        return next(iter(c.options.values() if isinstance(c.options, dict) else c.options))
    elif c.kind == "log_slider":
        value = math.sqrt(c.min * c.max)
    else:
        value = (c.min + c.max) / 2
    if c.kind in ("slider", "int_slider", "log_slider"):
        if not _number(value) or not c.min <= value <= c.max:
            raise ValueError(f"interact: start value {value!r} of {name!r} is outside its range [{c.min}, {c.max}]")
        return _snap(c, value) if c.value is None else value
    if c.kind == "dropdown":
        values = list(c.options.values()) if isinstance(c.options, dict) else list(c.options)
        if value not in values:
            raise ValueError(f"interact: start value {value!r} of {name!r} is not one of its options {values}")
    return value


def _make_widget(c: Control, name: str, value: Any) -> Any:
    """The ipywidgets widget for a control (live mode only)."""
    import ipywidgets as W  # lazy: ipywidgets is optional (live mode only)

    if c.kind == "widget":
        return c.widget
    common = dict(description=c.description or name, style={"description_width": "initial"})
    # continuous_update=False: redraw when the slider is released, not for every pixel of a
    # drag, so a slow figure doesn't queue up dozens of redraws in the kernel.
    if c.kind == "int_slider":
        return W.IntSlider(value=value, min=c.min, max=c.max, step=c.step, continuous_update=False, **common)
    if c.kind == "slider":
        return W.FloatSlider(value=value, min=c.min, max=c.max, step=c.step, continuous_update=False,
                             readout_format=c.readout_format or ".3g", **common)
    if c.kind == "log_slider":
        return W.FloatLogSlider(value=value, base=10, min=math.log10(c.min), max=math.log10(c.max),
                                step=c.step, continuous_update=False,
                                readout_format=c.readout_format or ".2g", **common)
    if c.kind == "dropdown":
        return W.Dropdown(options=c.options, value=value, **common)
    if c.kind == "checkbox":
        return W.Checkbox(value=value, indent=False, **common)
    return W.Text(value=value, continuous_update=False, **common)


def is_live() -> bool:
    """True when ``interact`` will show live widgets: an IPython kernel with ipywidgets,
    and MLCOURSE_STATIC is not "1"."""
    if os.environ.get("MLCOURSE_STATIC") == "1":
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython  # lazy: IPython may be absent
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def _can_show() -> bool:
    import matplotlib  # lazy: matplotlib costs ~1 s to import

    return matplotlib.get_backend().lower() not in _NON_INTERACTIVE


def _ipython() -> Any:
    try:
        from IPython import get_ipython  # lazy: IPython may be absent
    except ImportError:
        return None
    return get_ipython()


@functools.lru_cache(maxsize=1)
def _interactive_class() -> type:
    """ipywidgets.interactive that redraws a matplotlib figure (built lazily: ipywidgets is optional)."""
    import matplotlib.pyplot as plt  # lazy: see the docstring
    from IPython.display import display  # lazy: IPython only in live mode
    from ipywidgets import interactive  # lazy: ipywidgets is optional

    class InteractiveFigure(interactive):
        """Controls + an output area holding the figure fn draws.

        After each redraw: ``last_result`` = fn's return value, ``figures`` = the figures it drew.
        """

        def __init__(self, fn: Callable, **widgets: Any) -> None:
            self.fn, self.last_result, self.figures = fn, None, []
            self._skip_display_in = None
            # _draw takes **kwargs, so interactive makes no extra widgets for fn's other defaults.
            super().__init__(self._draw, **widgets)

        def _draw(self, **kwargs: Any) -> None:
            before = set(plt.get_fignums())
            try:
                self.last_result = self.fn(**kwargs)
            except Exception as exc:
                # An unfinished exercise: one line in the output area, not ipywidgets'
                # traceback through this file (mlcourse.friendly says which one).
                text = friendly.message(exc, exc.__traceback__)
                if text is None:
                    raise
                for k in set(plt.get_fignums()) - before:
                    plt.close(k)
                print(text)
                return
            self.figures = [plt.figure(k) for k in plt.get_fignums() if k not in before]
            # We run inside the Output widget: show the figure here, then close it, so it is
            # neither drawn again under the widget at the end of the cell nor leaked on
            # every redraw. Returning None keeps interactive from displaying fn's result.
            if self.figures and _can_show():
                plt.show()
            for fig in self.figures:
                plt.close(fig)

        def _ipython_display_(self) -> None:
            # interact() already displayed us; when its call ends the cell, IPython would
            # show the returned widget a second time. Skip exactly that one display.
            ip = _ipython()
            if ip is not None and self._skip_display_in == ip.execution_count:
                self._skip_display_in = None
                return
            display(self._repr_mimebundle_(), raw=True)

    return InteractiveFigure


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def interact(fn: Callable[..., Any], **controls: Any) -> Any:
    """Call fn with values from interactive controls and show the figure it draws.

    fn: draws a matplotlib figure (``fig, ax = plt.subplots()``) from its keyword arguments.
    controls: name=control for arguments of fn (``slider``, ``log_slider``, ``dropdown``,
    ``checkbox`` or an ipywidgets abbreviation). Arguments of fn without a control keep
    their defaults.

    Live (JupyterLab kernel, MLCOURSE_STATIC != "1"): displays and returns the widget
    (an ``ipywidgets.interactive``). Static: calls fn once with the start values, prints
    one line naming the controls, and returns None.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a function that draws a figure, got {type(fn).__name__}")
    if not controls:
        raise ValueError("interact: give at least one control, e.g. interact(fn, lr=log_slider(1e-4, 1))")
    name = getattr(fn, "__name__", "fn")
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for key in controls:
        if key not in params and not takes_any:
            raise ValueError(f"interact: {name}() has no argument {key!r}; its arguments are {list(params)}")
    missing = [p.name for p in params.values() if p.default is inspect.Parameter.empty
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in controls]
    if missing:
        raise ValueError(f"interact: {name}() needs {missing} but no control was given for "
                         f"{'it' if len(missing) == 1 else 'them'}")

    specs = {key: _from_abbrev(key, c) for key, c in controls.items()}
    values = {key: _start_value(c, key, params[key].default if key in params else inspect.Parameter.empty)
              for key, c in specs.items()}

    if is_live():
        widgets = {key: _make_widget(c, key, values[key]) for key, c in specs.items()}
        w = _interactive_class()(fn, **widgets)
        ip = _ipython()
        if ip is not None:
            from IPython.display import display  # lazy: IPython only in a notebook

            display(w._repr_mimebundle_(), raw=True)
            w._skip_display_in = ip.execution_count
        return w

    import matplotlib.pyplot as plt  # lazy: matplotlib costs ~1 s to import

    shown = ", ".join(f"{k}={_format(v)}" for k, v in values.items())
    print(f"Static figure for {shown}. Run this notebook in JupyterLab to change "
          f"{', '.join(specs)} with interactive controls.")
    fn(**values)
    if _ipython() is not None and _can_show():
        plt.show()  # show it now, as this cell's regular output
    return None
