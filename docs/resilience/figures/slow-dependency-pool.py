"""Busy workers and checkouts answered in time through the incident, from the worked example."""

from matplotlib.figure import Figure

from examples.slow_dependencies import Scenario, incident_timelines
from handbook.figures import COLORS

STYLES = {
    "slow dependency, unguarded": (COLORS["bad"], "-"),
    "slow dependency, guarded": (COLORS["good"], "-"),
    "dead dependency, unguarded": (COLORS["neutral"], "--"),
}


def draw(figure: Figure) -> None:
    figure.set_size_inches(6.4, 4.6)
    pool, checkout = figure.subplots(2, 1, sharex=True)
    scenario = Scenario()
    timelines = incident_timelines()
    for axes in (pool, checkout):
        axes.axvspan(
            scenario.incident_start_s, scenario.incident_end_s, color=COLORS["muted"], alpha=0.12
        )
    for name, (color, line) in STYLES.items():
        timeline = timelines[name]
        pool.plot(*zip(*timeline.busy_workers, strict=True), color=color, ls=line, label=name)
        seconds, shares = zip(*timeline.checkout_on_time, strict=True)
        checkout.plot(seconds, [s * 100 for s in shares], color=color, ls=line, label=name)
    pool.axhline(scenario.workers, color="black", lw=1, ls=":")
    pool.annotate(
        f"pool: {scenario.workers} workers",
        (1, scenario.workers),
        xytext=(0, 4),
        textcoords="offset points",
        fontsize=9,
    )
    pool.set(ylabel="busy workers", ylim=(0, 48))
    pool.set_title("Worker pool (incident shaded: 20 to 40 s)", loc="left")
    pool.legend(loc="center left", bbox_to_anchor=(0, 0.55))
    checkout.set(xlabel="time (s)", ylabel="answered in 1 s (%)", ylim=(-5, 105))
    checkout.set_xlim(0, scenario.duration_s)
    checkout.set_title("Checkouts, which never call the dependency", loc="left")
