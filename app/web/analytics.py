"""The analytics page: events per trigger per day, delivery rates, transit times and problem share, as SVG charts."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.services import analytics
from app.web import charts, db_session, runtime
from app.web.access import store_from_args

bp = Blueprint("analytics", __name__)
EVENT_COLOURS = {"sent": "#12b76a", "backfilled": "#98a2b3", "pending": "#f79009", "failed": "#d92d20", "skipped": "#d0d5dd"}
PARCEL_COLOURS = {"delivered": "#12b76a", "on the way": "#3b5bdb", "needs attention": "#f79009", "returned": "#d92d20"}


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _duration(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


@bp.get("/analytics")
def page():
    db = db_session()
    store = store_from_args(db)
    now = runtime().clock()
    per_day = analytics.events_per_day(db, store_id=store.id, now=now)
    delivery = analytics.event_delivery(db, store_id=store.id, now=now)
    outcomes = analytics.parcel_outcomes(db, store_id=store.id, now=now)
    transit = analytics.median_transit(db, store_id=store.id, now=now)
    problems = analytics.problem_share(db, store_id=store.id, now=now)

    accepted = delivery["sent"] + delivery["backfilled"]
    finished = sum(outcomes.values())
    legend = [(name, charts.colour(i), sum(values)) for i, (name, values) in enumerate(per_day.series.items())]
    views = {
        "events_chart": charts.stacked_bars(days=per_day.days, series=per_day.series,
                                            title="Events accepted by the ESP per trigger per day, last 14 days"),
        "delivery_chart": charts.donut(segments=[(k, v, EVENT_COLOURS[k]) for k, v in delivery.items()],
                                       centre=_rate(accepted, accepted + delivery["failed"]),
                                       caption="ESP events accepted (last 14 days)"),
        "parcels_chart": charts.donut(segments=[(k, v, PARCEL_COLOURS[k]) for k, v in outcomes.items()],
                                      centre=_rate(outcomes["delivered"], finished), caption="Parcels delivered (last 30 days)"),
        "transit_chart": charts.hbars(rows=[(f"{r.carrier} → {r.country}", r.median_hours,
                                             f"{_duration(r.median_hours)} · {r.parcels}") for r in transit],
                                      caption="Median transit time per carrier and destination"),
        "problems_chart": charts.hbars(rows=[(t.replace("Shipment ", ""), n, f"{_rate(n, problems.parcels)} ({n})")
                                             for t, n in problems.by_trigger.items()],
                                       caption="Share of parcels with problems", fill="#f79009"),
    }
    return render_template("analytics/page.html", store=store, per_day=per_day, delivery=delivery, outcomes=outcomes,
                           transit=transit, problems=problems, legend=legend, event_colours=EVENT_COLOURS,
                           parcel_colours=PARCEL_COLOURS, problem_rate=_rate(problems.any_problem, problems.parcels),
                           **views)
