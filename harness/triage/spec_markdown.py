"""Render a :class:`~harness.triage.spec.TriageSpec` as Markdown: what ``meterbench spec`` prints.

A manufacturer reads this to learn what their meter will be held to, so every clause appears
with its text, the devices it applies to, whether it changes the device, who may run it, the
measurements it records with their limits, and what a failure means for the verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.protocols.gbcs_alerts import ALERTS
from harness.triage.access_table import Role

if TYPE_CHECKING:
    from harness.triage.spec import Clause, TriageSpec


def _cell(text: object) -> str:
    """A table cell: pipes escaped, line breaks folded."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _roles(roles: tuple[Role, ...]) -> str:
    return ", ".join(r.value for r in roles) or "no role"


def _failure(spec: TriageSpec, clause: Clause) -> str:
    """What a failure of ``clause`` means for the verdict."""
    if not clause.fault_categories:
        return "INCONCLUSIVE (a bench condition, not a device fault)"
    parts = []
    for cat in clause.fault_categories:
        reason = spec.ch_return_reason(cat, clause)
        parts.append(f"{cat.value}" + (f" (hub return reason: {reason.value})" if reason else ""))
    own = [f"`{ev.name}` failed: {ev.ch_return_reason.value}" for ev in clause.evidence
           if ev.ch_return_reason is not None]
    tail = f"; a hub's own return reason when {', '.join(own)}" if own else ""
    return "FAULT: " + "; or ".join(parts) + tail


def _figure(value: float | str | tuple[str, ...]) -> str:
    """A clause parameter as the document writes it."""
    if isinstance(value, tuple):
        return ", ".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _clause(spec: TriageSpec, clause: Clause) -> list[str]:
    lines = [f"#### {clause.id}: {clause.title}", "", clause.text.strip(), ""]
    lines += [
        f"- **Applies to:** {', '.join(t.name for t in clause.applies_to)}",
        f"- **Destructive:** {'yes (changes the device)' if clause.destructive else 'no'}",
        f"- **Eligible roles:** {_roles(clause.eligible)}",
        f"- **A failure means:** {_failure(spec, clause)}",
    ]
    if clause.parameters:  # the figures the text names, as the code applies them
        lines.append("- **Figures:** " + ", ".join(
            f"`{k}` = {_figure(v)}" for k, v in clause.parameters.items()))
    lines.append("")
    rows: list[list[object]] = [[f"`{ev.name}`", ev.unit, ev.limits_text(), ev.description]
                                for ev in clause.evidence]
    return lines + _table(["Measurement", "Unit", "Limits", "Description"], rows)


def render_markdown(spec: TriageSpec) -> str:
    """The whole specification as one Markdown document."""
    out = [f"# {spec.title}", "",
           f"Specification version {spec.version}, {len(spec.clauses)} clauses."
           + (f" Access table of {spec.site}." if spec.site else ""), "",
           spec.summary.strip(), ""]

    out += ["## Clauses at a glance", ""]
    out += _table(["Clause", "Title", "Stage", "Applies to", "Destructive", "Eligible roles"],
                  [[c.id, c.title, c.stage.value, ", ".join(t.name for t in c.applies_to),
                    "yes" if c.destructive else "no", _roles(c.eligible)] for c in spec.clauses])

    out += ["## Roles", ""]
    out += [f"- **{role.value}** ({info.name}): {info.description.strip()}"
            for role, info in spec.roles.items()]
    out += [""]

    out += ["## Clauses", ""]
    for stage in spec.stages:
        out += [f"### Stage: {stage.value}", ""]
        for clause in spec.clauses:
            if clause.stage is stage:
                out += _clause(spec, clause)

    out += ["## Access table", "",
            f"By default every role may run a non-destructive clause "
            f"({_roles(spec.access.defaults.non_destructive)}), and a destructive clause is "
            f"open to {_roles(spec.access.defaults.destructive)}. A clause listed in the "
            "table's `clauses` gets exactly the roles listed there. A refusal is made before "
            "anything is sent to the device, and is written to the audit log.", ""]
    out += _table(["Clause", "Destructive", *(r.value for r in Role)],
                  [[c.id, "yes" if c.destructive else "no",
                    *("yes" if r in c.eligible else "—" for r in Role)] for c in spec.clauses])

    out += ["## Fault categories", "",
            "A FAULT verdict names one category; for a Communications Hub it also gives the "
            "DUIS 8.14.3 return reason (a clause may name a more specific one).", ""]
    out += _table(["Category", "Description", "Hub return reason (DUIS 8.14.3)"],
                  [[cat.value, info.description,
                    info.ch_return_reason.value if info.ch_return_reason else "—"]
                   for cat, info in spec.fault_categories.items()])

    out += ["## Hub return reasons", "",
            "The DUIS 8.14.3 CHFFaultReason a hub is returned with is the one the clause of "
            "its deciding finding names (the first failing clause of the winning category, "
            "in document order): the failed measurement's own, else the clause's, else the "
            "category's. Each reason and the failures that give it:", ""]
    out += _table(["Hub return reason", "Given by"],
                  [[reason.value, ", ".join(f"{c} `{m}`" if m else c for c, m in given)]
                   for reason, given in spec.ch_return_reasons().items()])

    out += ["## Alert codes", "",
            "How each GBCS alert code read from a device's logs counts towards the verdict.", ""]
    out += _table(["Code", "Meaning", "Category", "Decides a fault by itself"],
                  [[f"0x{code:04X}", ALERTS[code].name,
                    rule.category.value if rule.category else "—", "yes" if rule.fault else "no"]
                   for code, rule in spec.alerts.items()])
    return "\n".join(out).rstrip() + "\n"
