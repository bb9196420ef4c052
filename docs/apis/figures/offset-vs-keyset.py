"""Offset against keyset pagination: rows read per page by depth, and anomalies under writes."""

from matplotlib.figure import Figure

from examples.list_endpoints import anomaly_table, cost_by_depth
from handbook.figures import COLORS

METHODS = {"offset": ("OFFSET", COLORS["bad"]), "keyset": ("keyset", COLORS["good"])}
"""Each pagination method: its label and colour, the same in both panels."""

CHANGES = {
    "insert": ("new orders\narrive:\nduplicates", "duplicates"),
    "delete": ("read orders\nare deleted:\nskipped", "skipped"),
}
"""Each change made between pages: its tick label and the anomaly it causes."""


def draw(figure: Figure) -> None:
    cost, harm = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})

    pages, by_offset, by_keyset = zip(*cost_by_depth(), strict=True)
    for method, rows, marker in (("offset", by_offset, "o"), ("keyset", by_keyset, "s")):
        label, color = METHODS[method]
        cost.plot(pages, rows, color=color, marker=marker, label=label)
    cost.set_xscale("log")
    cost.set_yscale("log")
    cost.set_xticks([1, 10, 100, 1000], ["1", "10", "100", "1,000"])
    cost.set_yticks([10, 100, 1_000, 10_000, 100_000], ["10", "100", "1,000", "10k", "100k"])
    cost.set(xlabel="page number (50 orders a page)", ylabel="rows read for one page")
    cost.set_title("Cost of one page, 100,000 orders", loc="left")
    cost.legend(loc="upper left")

    table = anomaly_table()
    groups = range(len(CHANGES))
    for shift, method in ((-0.2, "offset"), (0.2, "keyset")):
        label, color = METHODS[method]
        heights = [getattr(table[(method, change)], kind) for change, (_, kind) in CHANGES.items()]
        bars = harm.bar([g + shift for g in groups], heights, width=0.4, color=color, label=label)
        harm.bar_label(bars, padding=2)
    harm.set_xticks(list(groups), [tick for tick, _ in CHANGES.values()])
    harm.set_ylim(0, max(a.duplicates + a.skipped for a in table.values()) * 1.25)
    harm.set(ylabel="orders affected")
    harm.set_title("1,000 orders, 5 changes a page", loc="left")
    harm.legend(loc="upper right")
