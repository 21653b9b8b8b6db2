"""Which hospitals of the NHS.uk list may host a PET-CT scanner: the eligibility rule.

The rule (``pet_ct_host``, the default) keeps **acute general hospitals and specialist
cancer centres of NHS trusts** and excludes every other kind of site, each with a reason.

Why. PET-CT is commissioned by NHS England as a specialised service (service specification
B02/S/a, 2013/14 NHS Standard Contract for PET-CT, all ages; DOMAIN.md section 9) whose
indications are overwhelmingly oncological (RCP/RCR 2012 evidence-based indications: staging,
response and recurrence of lymphoma, lung, oesophageal, head and neck and colorectal cancer)
plus a few cardiac, neurological and infection uses. A scanner therefore sits with acute
cancer services: a hospital with an oncology or haematology service, a multidisciplinary
cancer team, radiology and nuclear-medicine staff (ARSAC licence holder, radiation protection
adviser), a radiopharmacy hand-over and inpatient access for sick patients. The Phase 1
contract's 28 sites are all such hospitals. Sites without acute cancer services (eye,
orthopaedic, rehabilitation, mental-health, maternity, children's, dental and community
hospitals, hospices, treatment and day-surgery centres, minor-injury units) cannot host the
service however well they are placed on the road network.

How, in order (the first rule that matches gives the reason; see :data:`RULES`):

1. *Organisation*: the hospital's parent is an NHS trust (ODS code ``R..``), the site's own
   ODS code extends that trust's code (a listing under another organisation does not), the
   trust is not a mental-health, community or partnership trust, and NHS.uk lists the site
   as ``Sector = "NHS Sector"``, ``SubType = "Hospital"``. The file mislabels some acute
   hospitals "Independent Sector" or "UNKNOWN" (Manchester Royal Infirmary, Heartlands,
   Northwick Park, Ipswich, Wexham Park ...): ``data/site_roles.csv`` rows with role
   ``acute`` rescue them.
2. *Specialist cancer centres* are eligible whatever else their names say
   (:data:`CANCER_TRUST_PATTERN`, :data:`CANCER_SITE_PATTERN`, :data:`CANCER_CENTRE_SITES`).
3. *Specialist non-cancer trusts* (orthopaedic, children's, women's, eye, heart and chest,
   neurosciences, plastic surgery), by parent trust name.
4. *Kind of site*, by site name: private, mental health, eye, dental, orthopaedic,
   rehabilitation, maternity, children's, hospice, treatment centre, minor injury,
   community, cottage and memorial hospitals, other specialist units.
5. *The NHS.uk record itself* describes the site as community: its address or web page
   (e.g. Penrith: address "Penrith Community Hospital"; Torrington: web page
   ``.../services/community/torrington/``), or the web page belongs to a partnership or
   community trust; an address on a business park is a trust office.
6. *Project curation* (``data/site_roles.csv``): community, outpatient, maternity and closed
   sites of acute trusts whose NHS.uk row says nothing about their role; each row gives its
   reason and a confidence. This is the only list kept by hand; edit it or override it from
   a scenario (``sites.include``).

``all_acute`` reproduces the filter netplan used before the rule (NHS sector, sub-type
Hospital, NHS-trust parent, not a non-acute trust, name not matching
:data:`OLD_SITE_PATTERN`). ``none`` keeps every hospital of the list.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ._errors import ValidationError
from ._resources import shipped_path
from ._validate import check_columns, check_unique

#: The eligibility rules a scenario can choose (``sites.eligibility``).
ELIGIBILITY_MODES = ("pet_ct_host", "all_acute", "none")

SITE_ROLES_FILE = shipped_path("data") / "site_roles.csv"  # in the checkout or the wheel

#: Parent trusts whose hospitals are not acute (mental health, community, partnership trusts).
NON_ACUTE_TRUST_PATTERN = (
    r"Mental Health|Partnership|Community|Social Care|Health and Care|Care Services|"
    r"Mersey Care|Humber Teaching|Combined Healthcare|Southern Health|Berkshire Healthcare|"
    r"Nottinghamshire Healthcare|Northamptonshire Healthcare|Derbyshire Healthcare|"
    r"Dorset Healthcare|Norfolk and Suffolk|Tees, Esk and Wear|"
    r"Cumbria Northumberland Tyne and Wear|Oxleas|East London NHS|"
    r"Central and North West London|South London and Maudsley|West London NHS|"
    r"North East London NHS|Oxford Health|Pennine Care|Lancashire & South Cumbria NHS|"
    r"Rotherham Doncaster and South Humber|Cambridgeshire and Peterborough NHS"
)
#: Site names the filter before the PET-CT rule left out (``eligibility: all_acute``).
OLD_SITE_PATTERN = (
    r"Community Hospital|Mental Health|Psychiatric|Screening|Hospice|Learning Disab|"
    r"Eye Hospital|Eye Infirmary|Dental"
)

#: Trusts that are specialist cancer centres: every site is eligible.
CANCER_TRUST_PATTERN = r"Christie|Clatterbridge Cancer|Royal Marsden"
#: Site names that say cancer centre.
CANCER_SITE_PATTERN = r"Cancer Cent|Oncology"
#: Cancer centres inside acute trusts whose NHS.uk name does not say so (non-surgical
#: oncology centres; the trusts' own descriptions). Eligible whatever the other rules say.
CANCER_CENTRE_SITES = {
    "RAS02": "Mount Vernon Cancer Centre (Mount Vernon Hospital)",
    "RHQWP": "Weston Park Cancer Centre, Sheffield",
    "RTH02": "Oxford Cancer Centre (Churchill Hospital)",
    "RWA16": "Queen's Centre for Oncology, Castle Hill Hospital, Hull",
    "R1HM0": "Barts Cancer Centre (St Bartholomew's Hospital)",
    "RJ121": "Guy's Cancer Centre (Guy's Hospital)",
}


class Rule(NamedTuple):
    """One exclusion of ``pet_ct_host``.

    ``key`` is the short code written to ``candidates.csv`` (column ``rule``), ``reason`` the
    text, ``on`` what the pattern reads (``trust``: parent trust name; ``name``: site name;
    ``record``: the NHS.uk address lines and web page) and ``pattern`` a case-insensitive
    regular expression.
    """

    key: str
    reason: str
    on: str
    pattern: str


#: The exclusions of ``pet_ct_host`` after the organisation check, in order (rules 3 to 5).
RULES: tuple[Rule, ...] = (
    # 3. specialist trusts without acute cancer services
    Rule("orthopaedic", "specialist orthopaedic hospital", "trust", r"Orthopaedic"),
    Rule("children", "children's hospital", "trust", r"Children"),
    Rule("maternity", "women's or maternity hospital", "trust", r"Women"),
    Rule("eye", "eye hospital or unit", "trust", r"Moorfields"),
    Rule(
        "heart_chest",
        "specialist heart and chest hospital",
        "trust",
        r"Heart and Chest|Papworth|Brompton",
    ),
    Rule("neuro", "specialist neurosciences hospital", "trust", r"Walton Centre"),
    Rule(
        "plastics",
        "specialist plastic surgery and burns hospital",
        "trust",
        r"Queen Victoria Hospital",
    ),
    # 4. the kind of site, from its name
    Rule(
        "private",
        "private hospital listed under an NHS trust",
        "name",
        r"Private|Nuffield|Spire|Capio|\bBMI\b|Cygnet|Ramsay|Nightingale|Somerfield|"
        r"Fawkham Manor|Sandringham|New Victoria Hospital|Ravenscourt Park",
    ),
    Rule(
        "mental_health",
        "mental-health or learning-disability unit",
        "name",
        r"Mental Health|Psychiatr|Learning Disab",
    ),
    Rule("eye", "eye hospital or unit", "name", r"\bEye\b|Ophthalm"),
    Rule("dental", "dental hospital", "name", r"Dental"),
    Rule("orthopaedic", "specialist orthopaedic hospital", "name", r"Orthopaedic"),
    Rule("neuro", "specialist neurosciences hospital", "name", r"Neurology|Neurosurgery"),
    Rule("rehabilitation", "rehabilitation hospital", "name", r"Rehabilitation|Neuro-Disab"),
    Rule("maternity", "women's or maternity hospital", "name", r"Women|Maternity|Queen Charlotte"),
    Rule("children", "children's hospital", "name", r"Child|Chidren"),
    Rule("hospice", "hospice", "name", r"Hospice"),
    Rule(
        "treatment_centre",
        "treatment, day-surgery or diagnostic centre",
        "name",
        r"Treatment Centre|Surgical Centre|Day Surgery|Diagnostic",
    ),
    Rule(
        "minor_injury",
        "minor-injury or urgent-care unit",
        "name",
        r"Minor Injur|Urgent Care|Walk.in",
    ),
    Rule(
        "community",
        "community hospital",
        "name",
        r"Community|Health Centre|Wellbeing|Welllbeing|Neighbourhood|Intermediate Care|"
        r"Primary Care|Day Hospital|Therapy Unit|Village Hospital",
    ),
    Rule("cottage", "cottage hospital", "name", r"Cottage"),
    # "Memorial" names community hospitals (war-memorial and subscription hospitals); the
    # one acute exception, Darlington Memorial Hospital, is in MEMORIAL_ACUTE.
    Rule("memorial", "war-memorial or memorial community hospital", "name", r"Memorial"),
    Rule(
        "specialist",
        "other specialist unit (rheumatology, tropical diseases, integrated "
        "medicine, breast care or screening)",
        "name",
        r"Rheumatic|Tropical|Integrated Medicine|Breast|Screening",
    ),
    # 5. what the NHS.uk record itself says (address lines, web page)
    Rule(
        "community",
        "community hospital (NHS.uk address or web page)",
        "record",
        r"Community|Partnership",
    ),
    Rule(
        "office",
        "office or headquarters, not a hospital (NHS.uk address)",
        "record",
        r"Business Park",
    ),
)
#: Acute general hospitals whose names match the memorial pattern (kept for the many
#: community hospitals that carry the word).
MEMORIAL_ACUTE = {"RXPDA": "Darlington Memorial Hospital (acute general hospital)"}

#: Reasons of the organisation check (rule 1) and of the old filter (``all_acute``).
ORGANISATION_REASONS = {
    "independent": "not an NHS trust hospital (independent sector, GP or social enterprise)",
    "other_trust_listing": "listed under an NHS trust it is not a site of (ODS code)",
    "non_acute_trust": "hospital of a mental-health, community or partnership trust",
    "not_nhs_hospital": "trust site that NHS.uk lists as independent sector or of unknown type",
    "not_nhs_sector": "NHS.uk sector is not 'NHS Sector'",
    "not_hospital": "NHS.uk sub-type is not 'Hospital'",
    "old_site_name": "site name marks a non-acute site (filter before the PET-CT rule)",
}
#: Short labels of every rule key, for counts (report, logs).
RULE_LABELS = {
    **{r.key: r.reason.split(" (")[0] for r in RULES},
    **ORGANISATION_REASONS,
    "outpatient": "outpatient, day-case or urgent-care site",
    "closed": "closed or not an acute site",
    "acute": "acute general hospital",
    "cancer_centre": "specialist cancer centre",
    "any": "no eligibility rule",
}
#: Roles ``data/site_roles.csv`` may give: ``acute`` (eligible) or an exclusion.
ROLES = ("acute", *sorted(set(RULE_LABELS) - set(ORGANISATION_REASONS) - {"acute", "any",
         "cancer_centre"}))  # fmt: skip
ROLE_COLUMNS = ["id", "name", "role", "reason", "confidence"]


def load_site_roles(path: str | Path | None = None) -> pd.DataFrame:
    """Load the curated roles of acute-trust sites whose NHS.uk row does not state them.

    Parameters
    ----------
    path
        Alternative CSV with the same columns; default ``data/site_roles.csv``.

    Returns
    -------
    pandas.DataFrame
        ``id`` (ODS code), ``name``, ``role`` (one of :data:`ROLES`), ``reason`` and
        ``confidence`` ({"H", "M", "L"}).

    Raises
    ------
    ValidationError
        On missing columns, duplicate ids, unknown roles or confidences, or empty reasons.
    """
    path = Path(path) if path is not None else SITE_ROLES_FILE
    df = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    check_columns(df, ROLE_COLUMNS, source=path.name)
    check_unique(df, "id", source=path.name)
    problems = []
    for col, allowed in (("role", ROLES), ("confidence", ("H", "M", "L"))):
        bad = df.loc[~df[col].isin(allowed), "id"].tolist()
        if bad:
            problems.append(f"row(s) {bad[:10]} have a {col} outside {list(allowed)}")
    empty = df.loc[df["reason"].str.strip() == "", "id"].tolist()
    if empty:
        problems.append(f"row(s) {empty[:10]} give no reason; say what the site is")
    if problems:
        msg = f"{path.name}: " + "; ".join(problems)
        raise ValidationError(msg)
    return df[ROLE_COLUMNS].reset_index(drop=True)


def _matches(values: pd.Series, pattern: str, *, case: bool = False) -> pd.Series:
    flags = 0 if case else re.IGNORECASE
    return values.fillna("").astype(str).str.contains(pattern, flags=flags, regex=True)


def classify_hospitals(
    hospitals: pd.DataFrame, mode: str = "pet_ct_host", *, roles: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Apply an eligibility rule to rows of the NHS.uk hospital list.

    Parameters
    ----------
    hospitals
        Rows of :func:`netplan.data.load_hospitals` (``id``, ``name``, ``sector``,
        ``sub_type``, ``parent_ods``, ``parent_name``; ``pet_ct_host`` also reads
        ``address1``, ``address2``, ``address3`` and ``website`` when present).
    mode
        {"pet_ct_host", "all_acute", "none"}, see the module docstring.
    roles
        Curated site roles (default :func:`load_site_roles`; read by ``pet_ct_host`` only).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``hospitals``: ``eligible`` (bool), ``rule`` (the key of the rule that
        excludes the site, or ``acute``, ``cancer_centre`` or ``any`` for eligible rows; see
        :data:`RULE_LABELS`) and ``reason`` (text).

    Raises
    ------
    ValidationError
        On an unknown ``mode``.

    Examples
    --------
    >>> h = pd.DataFrame({"id": ["RX101", "RX102"], "name": ["Town General", "Town Eye Unit"],
    ...                   "sector": "NHS Sector", "sub_type": "Hospital", "parent_ods": "RX1",
    ...                   "parent_name": "Town Hospitals NHS Trust"})
    >>> classify_hospitals(h, roles=pd.DataFrame(columns=ROLE_COLUMNS))["rule"].tolist()
    ['acute', 'eye']
    """
    if mode not in ELIGIBILITY_MODES:
        msg = f"eligibility must be one of {list(ELIGIBILITY_MODES)}, got {mode!r}"
        raise ValidationError(msg)
    h = hospitals
    out = pd.DataFrame(
        {"eligible": True, "rule": "any", "reason": "every hospital is eligible (rule 'none')"},
        index=h.index,
    )
    if mode == "none":
        return out
    ids = h["id"].astype(str)
    parent = h["parent_ods"].fillna("").astype(str)
    trust = h["parent_name"].fillna("").astype(str)
    name = h["name"].fillna("").astype(str)
    undecided = pd.Series(True, index=h.index)

    def exclude(mask: pd.Series, key: str, reason: str) -> None:
        hit = mask & undecided
        out.loc[hit, ["eligible", "rule", "reason"]] = [False, key, reason]
        undecided.loc[hit] = False

    def organisation(key: str, mask: pd.Series) -> None:
        exclude(mask, key, ORGANISATION_REASONS[key])

    non_acute_trust = _matches(trust, NON_ACUTE_TRUST_PATTERN, case=True)
    if mode == "all_acute":  # the filter before the PET-CT rule, step by step
        organisation("not_nhs_sector", h["sector"] != "NHS Sector")
        organisation("not_hospital", h["sub_type"] != "Hospital")
        organisation("independent", ~parent.str.startswith("R"))
        organisation("non_acute_trust", non_acute_trust)
        organisation("old_site_name", _matches(name, OLD_SITE_PATTERN))
        out.loc[undecided, ["rule", "reason"]] = ["acute", "NHS acute trust hospital"]
        return out

    # 1. organisation: a site of an NHS trust that is not a non-acute trust, listed as an NHS
    #    hospital (or curated as an acute hospital that NHS.uk mislabels)
    roles = load_site_roles() if roles is None else roles
    role = ids.map(roles.set_index("id")["role"])
    role_reason = ids.map(roles.set_index("id")["reason"])
    rescued = role.eq("acute")
    own_site = pd.Series([i.startswith(p) for i, p in zip(ids, parent, strict=True)], h.index)
    organisation("independent", ~parent.str.startswith("R"))
    organisation("other_trust_listing", ~own_site)
    organisation("non_acute_trust", non_acute_trust)
    nhs_hospital = (h["sector"] == "NHS Sector") & (h["sub_type"] == "Hospital")
    organisation("not_nhs_hospital", ~nhs_hospital & ~rescued)
    # 2. specialist cancer centres stay whatever the other rules say
    cancer = (
        _matches(trust, CANCER_TRUST_PATTERN)
        | _matches(name, CANCER_SITE_PATTERN)
        | ids.isin(list(CANCER_CENTRE_SITES))
    ) & undecided
    out.loc[cancer, ["rule", "reason"]] = ["cancer_centre", "specialist cancer centre"]
    undecided &= ~cancer
    # 3.-5. specialist trusts, kinds of site, what the record says
    record = h.reindex(columns=["address1", "address2", "address3", "website"]).fillna("")
    fields = {"trust": trust, "name": name, "record": record.astype(str).agg(" ".join, axis=1)}
    for rule in RULES:
        mask = _matches(fields[rule.on], rule.pattern)
        if rule.key == "memorial":
            mask &= ~ids.isin(list(MEMORIAL_ACUTE))
        exclude(mask & ~rescued, rule.key, rule.reason)
    # 6. curated roles of sites whose record says nothing
    curated = role.notna() & ~rescued & undecided
    out.loc[curated, "eligible"] = False
    out.loc[curated, "rule"] = role[curated]
    out.loc[curated, "reason"] = role_reason[curated]
    undecided &= ~curated
    out.loc[undecided, ["rule", "reason"]] = ["acute", "acute general hospital"]
    out.loc[undecided & rescued, "reason"] = role_reason[undecided & rescued]
    return out
