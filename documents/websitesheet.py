"""The report's 网站 sheet: one row per government website, each veto rule with its finding,
the deductions, the score and 合格/不合格/无法评估 (see :mod:`governance.websites`)."""

from __future__ import annotations

from collections.abc import Mapping

from openpyxl.worksheet.worksheet import Worksheet

from documents.ledgerbook import Cell, Translate, _header, _identity, _put
from governance.i18n import N_
from governance.reporting import VERDICT_LABELS
from governance.scoring import Deduction
from governance.vocabulary import category_label
from governance.websites import RuleOutcome, RuleResult, WebsiteLine, WebsiteRule

SHEET_WEBSITES = N_("网站")
RULE_HEADERS = {
    WebsiteRule.AVAILABILITY: N_("站点无法访问"),
    WebsiteRule.HOME_UPDATE: N_("首页不更新"),
    WebsiteRule.COLUMN_UPDATE: N_("栏目不更新"),
    WebsiteRule.SERIOUS_ERROR: N_("严重错误"),
}
OUTCOME_WORDS = {
    RuleOutcome.PASS: N_("未发现"),
    RuleOutcome.FAIL: N_("单项否决"),
    RuleOutcome.UNKNOWN: N_("无法评估"),
}


def _params(params: Mapping[str, object], tr: Translate) -> dict[str, object]:
    shown: dict[str, object] = {}
    for key, value in params.items():
        if key == "category":
            shown[key] = category_label(str(value), tr)
        elif isinstance(value, str):
            shown[key] = tr(value)  # page names are message ids; other text stays as it is
        else:
            shown[key] = value
    return shown


def rule_text(result: RuleResult, tr: Translate = _identity) -> str:
    reason = tr(result.reason).format(**_params(result.params, tr))
    return f"{tr(OUTCOME_WORDS[result.outcome])}：{reason}"


def deduction_text(d: Deduction, tr: Translate = _identity) -> str:
    return f"{tr(d.reason).format(**_params(d.params, tr))} −{d.points}"


def website_headers(tr: Translate = _identity) -> list[str]:
    return [
        tr(N_("编号")),
        tr(N_("单位")),
        tr(N_("网站名称")),
        tr(N_("首页地址")),
        tr(N_("监测栏目数")),
        *(tr(RULE_HEADERS[rule]) for rule in WebsiteRule),
        tr(N_("扣分")),
        tr(N_("得分")),
        tr(N_("结论")),
    ]


def website_row(line: WebsiteLine, tr: Translate = _identity) -> list[Cell | float]:
    results = {r.rule: r for r in line.verdict.results}
    return [
        line.id,
        line.unit,
        line.name,
        line.home_url,
        line.columns,
        *(rule_text(results[rule], tr) if rule in results else "—" for rule in WebsiteRule),
        "；".join(deduction_text(d, tr) for d in line.verdict.deductions) or "—",
        line.verdict.points,
        tr(VERDICT_LABELS[line.verdict.outcome]),
    ]


def fill_websites(sheet: Worksheet, lines: tuple[WebsiteLine, ...], tr: Translate) -> None:
    """Header and rows; the report workbook fits the widths and prepares the page."""
    _header(sheet, website_headers(tr))
    for r, line in enumerate(lines, start=2):
        for c, value in enumerate(website_row(line, tr), start=1):
            _put(sheet, r, c, value)  # type: ignore[arg-type]
    sheet.freeze_panes = "D2"
