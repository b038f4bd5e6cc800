"""A synthetic regional population, for demonstrations, tests and benchmarks at scale.

Deterministic for a seed: the same seed gives the same people, in the same order. What is
generated follows French identity rules closely enough to exercise identity vigilance:

- birth names drawn from the most frequent French surnames (Zipf-weighted by rank) and a
  generated tail of plausible ones, with particles ("Le Goff", "Du Pont"), accents and double
  names; names of foreign origin for people born abroad; first names by sex and generation,
  compound ones ("Jean-Pierre") and second and third first names;
- birth dates weighted towards the ages at which cancers occur;
- birth places from the INSEE COG (``communes.py``), weighted by population, Paris, Lyon and
  Marseille by municipal arrondissement, overseas départements, former communes, and countries
  (99xxx) for people born abroad;
- an INS matricule whose sex, birth year and month and birth place agree with the traits and
  whose key is right (Corsica counted 20 before 1976), recorded with the *demonstration* INS
  kind so that it can never be taken for a real person's; a few NIA;
- the RNIV statuses in a realistic mix (no INS for a provisional identity), used names for
  most married women, registrations at one to three structures with their IPPs, a GP for some;
- a few percent of near-duplicates (accent, hyphen, a typo in the birth date, birth and used
  name swapped; provisional, no INS) registered elsewhere, for identity-vigilance testing.

The loader writes what ``services.register_patient`` writes for each patient (the patient, its
identity version 1, its registration, the registering professional in the care team) in bulk:
``COPY`` on PostgreSQL, ``executemany`` on SQLite, in one transaction, with one summarising
audit event instead of one per patient. It refuses to run in production mode, or on a
database that holds real patients, unless forced.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import json
import random
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Membership, Structure, User
from dcc.audit.choices import Action
from dcc.audit.services import record_event
from dcc.core.context import system_actor
from dcc.patients import communes, matching
from dcc.patients.choices import CareTeamSource, IdentityEvidence, IdentityStatus, InsKind
from dcc.patients.models import CareTeamMember, Patient, PatientIdentifier, PatientIdentityVersion
from dcc.patients.services import IDENTITY_FIELDS

__all__ = [
    "SYNTHETIC_ID_PREFIX",
    "LoadReport",
    "Person",
    "SynthRefused",
    "check_may_load",
    "generate_population",
    "load_population",
]

NAMES_FILE: Final = Path(__file__).resolve().parent / "data" / "names.json"
SYNTHETIC_ID_PREFIX: Final = "SYNTH-"
# Ages are counted at this date, not today's, so that a seed gives the same people every year.
REFERENCE_DATE: Final = dt.date(2025, 6, 30)
DEFAULT_STRUCTURES: Final = 40
GENERAL_PRACTITIONERS: Final = 200
DUPLICATE_RATE: Final = 0.02
# The first structure, a university hospital that shares its registered patients, holds about
# a tenth of the population: the typical user of the benchmarks works there.
MAIN_STRUCTURE_SHARE: Final = 0.075
BATCH: Final = 20_000
# Paris, Marseille and Lyon births are recorded under the municipal arrondissement.
_CITIES_WITH_ARRONDISSEMENTS: Final = frozenset({"75056", "13055", "69123"})
_COUNTRIES_OF_BIRTH: Final = {  # INSEE code: (weight, pool of surnames)
    "99352": (30, "algeria_maghreb"),  # Algérie
    "99350": (12, "algeria_maghreb"),  # Maroc
    "99351": (6, "algeria_maghreb"),  # Tunisie
    "99139": (11, "iberia"),  # Portugal
    "99134": (7, "iberia"),  # Espagne
    "99127": (8, "italy"),  # Italie
    "99109": (3, ""),  # Allemagne
    "99131": (2, ""),  # Belgique
    "99122": (2, "other"),  # Pologne
    "99132": (1, "other"),  # Royaume-Uni
    "99243": (2, "other"),  # Viêt Nam
    "99208": (2, "other"),  # Turquie
    "99341": (2, "other"),  # Sénégal
    "99335": (1, "other"),  # Mali
    "99326": (1, "other"),  # Côte d'Ivoire
    "99322": (1, "other"),  # Cameroun
}
_STATUSES: Final = (
    (IdentityStatus.QUALIFIED, 0.55),
    (IdentityStatus.RECOVERED, 0.15),
    (IdentityStatus.VALIDATED, 0.10),
    (IdentityStatus.PROVISIONAL, 0.20),
)
_TAIL_ROOTS: Final = (  # noqa: SIM905 - a list of syllables reads better as one string
    "Bar Ber Bou Bri Cha Che Cou Dau Del Des Fau Fer Gal Gau Gil Gra Gui Jac Jou Lab Lac Lam "
    "Lan Lar Lau Mal Mar Mau Mer Mon Mor Pel Per Pic Pou Ram Ren Rib Roc Rou Sau Ser Tal Ter "
    "Tho Tou Val Ver Vil Bal Bel Bon Bor Bra Cab Cal Cam Car Cas Cor Cha Cla Cro Dor Duc Fla "
    "For Gar Gen Gor Her Hou Lec Leg Lor Mas Mic Nau Pag Pon Pra Que Rag Ray Sab Tar Tes Tre"
).split()
_TAIL_MIDDLES: Final = ("", "", "", "a", "e", "i", "o", "ch", "ill", "lan", "del", "ren", "gu")
_TAIL_ENDINGS: Final = (  # noqa: SIM905
    "ier ard eau et ot in on ou ec y ault and aud elle ès é as at ant ens iot ouët oux ade aux "
    "ac eix"
).split()
_PARTICLES: Final = ("Le ", "Le ", "Le ", "Du ", "De ", "La ", "Des ", "D'")


class SynthRefused(Exception):
    """Loading synthetic people here would mix them with real ones, or is not allowed."""


@dataclass(slots=True)
class Person:
    """One generated patient, with the registrations to write for them."""

    uuid: uuid.UUID
    ins_matricule: str
    ins_kind: str
    birth_name: str
    birth_first_names: str
    first_birth_first_name: str
    used_name: str
    used_first_name: str
    sex: str
    birth_date: dt.date
    birth_place_code: str
    identity_status: str
    identity_evidence: str
    objects_to_sharing: bool
    birth_name_key: str
    used_name_key: str
    first_name_key: str
    general_practitioner: int  # index in the pool of GPs, or -1
    registrations: list[tuple[int, str]]  # (structure index, IPP or "")
    explicit_team: int = -1  # index of a physician of the first structure, or -1
    duplicate_of: int = -1  # index of the person this one is a near-duplicate of

    def identity(self) -> dict[str, Any]:
        """The identity as ``services._snapshot`` records it in version 1."""
        return {
            name: (value.isoformat() if isinstance(value, dt.date) else value)
            for name in IDENTITY_FIELDS
            for value in [getattr(self, name)]
        }


class _Weighted:
    """Draws from a population with weights, by bisection on cumulated weights."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulated = list(itertools.accumulate(weights))
        self.total = self.cumulated[-1]

    def draw(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cumulated, rng.random() * self.total)]


@dataclass(frozen=True)
class _Pools:
    surnames: _Weighted
    foreign: dict[str, list[str]]
    first_names: dict[tuple[str, bool], _Weighted]  # (sex, born before 1955)
    middle: dict[str, list[str]]
    metro_and_overseas: _Weighted
    past_communes: list[str]
    countries: _Weighted
    structures: _Weighted
    surname_keys: dict[str, str] = field(default_factory=dict)


def _tail_surnames() -> list[str]:
    """Plausible surnames beyond the frequent ones: the long tail of a real population."""
    builder = random.Random(1)  # noqa: S311 - fixed: the pool is the same for every seed
    names = {
        root + middle + ending
        for root in _TAIL_ROOTS
        for middle in _TAIL_MIDDLES
        for ending in _TAIL_ENDINGS
        if _joins(root, middle) and _joins(root + middle, ending)
    }
    ordered = sorted(names)
    builder.shuffle(ordered)
    with_particles = [builder.choice(_PARTICLES) + n for n in ordered[:2000]]
    return ordered + with_particles


def _joins(left: str, right: str) -> bool:
    """No vowel clash at the junction ("Bou" + "ard" reads badly, "Bouch" + "ard" does not)."""
    vowels = "aeiouyéèëêô"
    return not right or not (left[-1] in vowels and right[0] in vowels)


@functools.cache
def _pools() -> _Pools:
    data = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    frequent: list[str] = data["surnames"]
    tail = _tail_surnames()
    # Zipf by rank: Martin ≈ 0.35 % of people, the 200 most frequent names ≈ 7 %.
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(frequent))]
    frequent_total = sum(weights)
    tail_weights = [1 / (rank + 30) ** 0.55 for rank in range(len(tail))]
    scale = frequent_total * (0.93 / 0.07) / sum(tail_weights)
    surnames = _Weighted(frequent + tail, weights + [w * scale for w in tail_weights])
    first_names = {
        (sex, before): _Weighted([n for n, _ in pool], [w for _, w in pool])
        for sex, key in (("F", "female_first_names"), ("M", "male_first_names"))
        for before, pool in (
            (True, data[key]["before_1955"]),
            (False, data[key]["from_1955"]),
        )
    }
    places = [
        c
        for c in communes.current_communes()
        if c.code not in _CITIES_WITH_ARRONDISSEMENTS and c.population > 0
    ]
    known_countries = communes.countries()
    countries = [code for code in _COUNTRIES_OF_BIRTH if code in known_countries]
    past = sorted(
        code
        for code in communes.past_codes()
        if code[:2] not in ("97", "98") and code[:2].isalnum()
    )
    structure_weights = [MAIN_STRUCTURE_SHARE] + [
        (1 - MAIN_STRUCTURE_SHARE) * w
        for w in _normalised([1 / k**0.5 for k in range(2, DEFAULT_STRUCTURES + 1)])
    ]
    return _Pools(
        surnames=surnames,
        foreign={k: list(v) for k, v in data["foreign_surnames"].items()},
        first_names=first_names,
        middle={"F": data["middle_female"], "M": data["middle_male"]},
        metro_and_overseas=_Weighted([c.code for c in places], [c.population for c in places]),
        past_communes=past,
        countries=_Weighted(countries, [_COUNTRIES_OF_BIRTH[c][0] for c in countries]),
        structures=_Weighted(range(DEFAULT_STRUCTURES), structure_weights),
    )


def _normalised(weights: list[float]) -> list[float]:
    total = sum(weights)
    return [w / total for w in weights]


@functools.cache
def _key(name: str) -> str:
    return matching.name_key(name)


@functools.cache
def _first_key(first_names: str) -> str:
    return matching.first_name_key(first_names)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


class _Generator:
    def __init__(self, seed: int, structures: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible, not secret
        self.pools = _pools()
        self.structure_count = structures
        self.structures = (
            self.pools.structures
            if structures == DEFAULT_STRUCTURES
            else _Weighted(range(structures), [1] * structures)
        )
        self.used_bodies: set[str] = set()
        self.ipp_counters = [0] * structures

    # traits -----------------------------------------------------------------------------------

    def _age(self) -> int:
        rng = self.rng
        draw = rng.random()
        if draw < 0.03:
            age = rng.uniform(0, 30)
        elif draw < 0.18:
            age = rng.gauss(50, 10)
        else:
            age = rng.gauss(68, 11)
        return int(min(104, max(0, age)))

    def _birth_date(self) -> dt.date:
        age = self._age()
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
        return latest - dt.timedelta(days=self.rng.randrange(365))

    def _place(self, born: dt.date) -> tuple[str, str]:
        """The INSEE code and the pool of surnames ("" for the French one)."""
        rng = self.rng
        draw = rng.random()
        if draw < 0.085:
            code = self.pools.countries.draw(rng)
            return code, _COUNTRIES_OF_BIRTH[code][1]
        if draw < 0.105 and born.year < 1990:
            return rng.choice(self.pools.past_communes), ""
        return self.pools.metro_and_overseas.draw(rng), ""

    def _surname(self, pool: str) -> str:
        rng = self.rng
        if pool and rng.random() < 0.5:
            return rng.choice(self.pools.foreign[pool])
        name: str = self.pools.surnames.draw(rng)
        if rng.random() < 0.01:
            name = f"{name}-{self.pools.surnames.draw(rng)}"
        return name

    def _first_names(self, sex: str, born: dt.date) -> str:
        rng = self.rng
        first = self.pools.first_names[(sex, born.year < 1955)].draw(rng)
        names = [first]
        for _ in range(rng.choice((0, 1, 1, 2, 2, 2))):
            middle = rng.choice(self.pools.middle[sex])
            if middle not in names and middle not in first:
                names.append(middle)
        return " ".join(names)

    def _matricule(self, sex: str, born: dt.date, place: str, nia: bool) -> str:
        digit = ("7" if sex == "M" else "8") if nia else ("1" if sex == "M" else "2")
        department = place[:2]
        if department in ("2A", "2B") and born.year < 1976:
            place = "20" + place[2:]  # Corsica was one département until 1976
        prefix = f"{digit}{born.year % 100:02d}{born.month:02d}{place}"
        order = self.rng.randint(1, 999)
        for _ in range(999):
            body = f"{prefix}{order:03d}"
            if body not in self.used_bodies:
                break
            order = order % 999 + 1
        else:
            return ""  # every order number taken for this place and month: no INS
        self.used_bodies.add(body)
        key = 97 - int(body.replace("2A", "19").replace("2B", "18")) % 97
        return f"{body}{key:02d}"

    def _status(self) -> str:
        draw = self.rng.random()
        for status, share in _STATUSES:
            if draw < share:
                return status
            draw -= share
        return IdentityStatus.PROVISIONAL

    def _evidence(self, status: str, born: dt.date, abroad: bool) -> str:
        if status not in (IdentityStatus.VALIDATED, IdentityStatus.QUALIFIED):
            return ""
        if (REFERENCE_DATE - born).days < 18 * 365:
            return IdentityEvidence.FAMILY_RECORD
        draw = self.rng.random()
        if abroad and draw < 0.5:
            return IdentityEvidence.RESIDENCE_PERMIT
        return IdentityEvidence.PASSPORT if draw > 0.8 else IdentityEvidence.ID_CARD

    def _registrations(self) -> list[tuple[int, str]]:
        rng = self.rng
        count = 1 if rng.random() < 0.72 else 2 if rng.random() < 0.82 else 3
        chosen: list[int] = []
        while len(chosen) < min(count, self.structure_count):
            index = self.structures.draw(rng)
            if index not in chosen:
                chosen.append(index)
        return [(index, self._ipp(index)) for index in chosen]

    def _ipp(self, structure: int) -> str:
        if self.rng.random() >= 0.85:
            return ""
        self.ipp_counters[structure] += 1
        return str((structure + 1) * 10**7 + self.ipp_counters[structure])

    # people -----------------------------------------------------------------------------------

    def person(self) -> Person:
        rng = self.rng
        sex = "F" if rng.random() < 0.48 else "M"
        born = self._birth_date()
        place, pool = self._place(born)
        abroad = place.startswith("99")
        birth_name = " ".join(self._surname(pool).split()).upper()
        first_names = self._first_names(sex, born)
        used_name = used_first = ""
        adult = (REFERENCE_DATE - born).days > 22 * 365
        if adult and (sex == "F" and rng.random() < 0.62 or sex == "M" and rng.random() < 0.01):
            used_name = " ".join(self._surname("").split()).upper()
        if rng.random() < 0.04 and " " in first_names:
            used_first = first_names.split(" ")[1]
        nia = abroad and rng.random() < 0.06
        status = self._status()
        wants_ins = status in (IdentityStatus.RECOVERED, IdentityStatus.QUALIFIED) or (
            status == IdentityStatus.VALIDATED and rng.random() < 0.5
        )
        matricule = self._matricule(sex, born, place, nia) if wants_ins else ""
        if not matricule and status in (IdentityStatus.RECOVERED, IdentityStatus.QUALIFIED):
            status = IdentityStatus.PROVISIONAL
        kind = (InsKind.NIA if nia else InsKind.DEMO) if matricule else ""
        registrations = self._registrations()
        return Person(
            uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            ins_matricule=matricule,
            ins_kind=kind,
            birth_name=birth_name,
            birth_first_names=first_names,
            first_birth_first_name=first_names.split(" ")[0],
            used_name=used_name,
            used_first_name=used_first,
            sex=sex,
            birth_date=born,
            birth_place_code=place,
            identity_status=status,
            identity_evidence=self._evidence(status, born, abroad),
            objects_to_sharing=rng.random() < 0.01,
            birth_name_key=_key(birth_name),
            used_name_key=_key(used_name),
            first_name_key=_first_key(first_names),
            general_practitioner=rng.randrange(GENERAL_PRACTITIONERS) if rng.random() < 0.4 else -1,
            registrations=registrations,
            explicit_team=rng.randrange(2) if rng.random() < 0.02 else -1,
        )

    def near_duplicate(self, original: Person, index: int) -> Person:
        """The same person registered again elsewhere, with the slips identity vigilance sees."""
        rng = self.rng
        birth_name, first_names, born = (
            original.birth_name,
            original.birth_first_names,
            original.birth_date,
        )
        slip = rng.random()
        if slip < 0.1 and original.used_name:
            birth_name = original.used_name  # the married name typed as the birth name
        elif slip < 0.55:
            variants = [
                v
                for v in (
                    _strip_accents(birth_name),
                    birth_name.replace(" ", "-"),
                    birth_name.replace(" ", "").replace("-", " "),
                    birth_name.replace("'", " "),
                )
                if v != birth_name
            ]
            birth_name = rng.choice(variants) if variants else birth_name.title().upper()
            first_names = _strip_accents(first_names)
        else:
            typos = sorted(matching.birth_date_variants(born) - {born})
            born = rng.choice(typos) if typos else born
            if rng.random() < 0.5:
                first_names = first_names.split(" ")[0].replace("-", " ")
        birth_name = " ".join(birth_name.split()).upper()
        registrations = [
            (index, self._ipp(index))
            for index in [self.structures.draw(rng)]
            if index not in {s for s, _ in original.registrations}
        ] or [((original.registrations[0][0] + 1) % self.structure_count, "")]
        return Person(
            uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            ins_matricule="",
            ins_kind="",
            birth_name=birth_name,
            birth_first_names=first_names,
            first_birth_first_name=first_names.split(" ")[0],
            used_name=original.used_name if birth_name != original.used_name else "",
            used_first_name="",
            sex=original.sex,
            birth_date=born,
            birth_place_code=original.birth_place_code,
            identity_status=IdentityStatus.PROVISIONAL,
            identity_evidence="",
            objects_to_sharing=False,
            birth_name_key=_key(birth_name),
            used_name_key=_key(original.used_name if birth_name != original.used_name else ""),
            first_name_key=_first_key(first_names),
            general_practitioner=-1,
            registrations=registrations,
            duplicate_of=index,
        )


def generate_population(
    count: int,
    seed: int = 0,
    *,
    structures: int = DEFAULT_STRUCTURES,
    taken: frozenset[str] = frozenset(),
) -> Iterator[Person]:
    """``count`` people, the same ones for the same seed; about 2 % are near-duplicates of an
    earlier person (``duplicate_of`` is that person's position). ``taken`` holds matricule
    bodies (13 characters) already in use, which are never given again."""
    generator = _Generator(seed, structures)
    generator.used_bodies.update(taken)
    rng = generator.rng
    originals: list[int] = []
    recent: list[Person] = []
    for index in range(count):
        if originals and rng.random() < DUPLICATE_RATE:
            position = rng.randrange(len(recent))
            original = recent[position]
            duplicate = generator.near_duplicate(original, originals[position])
            yield duplicate
            continue
        person = generator.person()
        if len(recent) < 4096:
            recent.append(person)
            originals.append(index)
        else:
            slot = rng.randrange(4096)
            recent[slot], originals[slot] = person, index
        yield person


# Loading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadReport:
    patients: int
    near_duplicates: int
    structures: list[Structure]
    physicians: list[User]  # two per structure, in structure order
    general_practitioners: list[User]
    seconds: float


def _synthetic_structures() -> Any:
    return Structure.objects.filter(
        national_id_type=StructureIdType.OTHER, national_id__startswith=SYNTHETIC_ID_PREFIX
    )


def check_may_load(*, seed: int, force: bool = False) -> None:
    """Refuse in production mode and on a database holding real patients, unless forced; and
    always when this seed was loaded already (its matricules and IPPs would clash)."""
    if _synthetic_structures().filter(national_id=f"{SYNTHETIC_ID_PREFIX}{seed}-00").exists():
        raise SynthRefused(f"La population synthétique de graine {seed} est déjà chargée.")
    if force:
        return
    if settings.PRODUCTION:
        raise SynthRefused(
            "Données synthétiques refusées en mode production : lancez en mode démonstration "
            "(DCC_DEMO=1) ou développement (DCC_DEV=1), ou forcez avec --force."
        )
    synthetic = PatientIdentifier.objects.filter(
        patient=OuterRef("pk"), structure__in=_synthetic_structures()
    )
    if Patient.objects.filter(~Exists(synthetic)).exists():
        raise SynthRefused(
            "La base contient des patients réels : les données synthétiques ne doivent jamais "
            "s'y mêler (forcez avec --force si c'est voulu)."
        )


_KINDS: Final = (
    StructureKind.HOSPITAL,
    StructureKind.PRIVATE_CLINIC,
    StructureKind.CANCER_CENTRE,
    StructureKind.HOSPITAL,
    StructureKind.PRIVATE_CLINIC,
)


def _create_structures_and_users(
    seed: int, count: int
) -> tuple[list[Structure], list[User], list[User], list[User]]:
    structures = [
        Structure(
            name="CHU de Synthèse" if k == 0 else f"{StructureKind(_KINDS[k % 5]).label} n° {k}",
            kind=StructureKind.HOSPITAL if k == 0 else _KINDS[k % 5],
            national_id_type=StructureIdType.OTHER,
            national_id=f"{SYNTHETIC_ID_PREFIX}{seed}-{k:02d}",
            shares_registered_patients=k == 0 or _KINDS[k % 5] != StructureKind.PRIVATE_CLINIC,
        )
        for k in range(count)
    ]
    practice = Structure(
        name="Cabinets de ville (synthèse)",
        kind=StructureKind.PRIVATE_PRACTICE,
        national_id_type=StructureIdType.OTHER,
        national_id=f"{SYNTHETIC_ID_PREFIX}{seed}-GP",
    )
    # Both backends return the primary keys of bulk-created rows (SQLite through RETURNING).
    Structure.objects.bulk_create([*structures, practice])

    def user(label: str, first: str, last: str) -> User:
        person = User(
            email=f"synth{seed}-{label}@synthese.invalid", first_name=first, last_name=last
        )
        person.set_unusable_password()
        return person

    secretaries = [user(f"s{k}-secretariat", "Secrétariat", f"Synthèse {k}") for k in range(count)]
    physicians = [
        user(f"s{k}-medecin{j}", "Médecin", f"Synthèse {k}-{j}")
        for k in range(count)
        for j in range(2)
    ]
    gps = [user(f"mg{k}", "Généraliste", f"Synthèse {k}") for k in range(GENERAL_PRACTITIONERS)]
    User.objects.bulk_create([*secretaries, *physicians, *gps])
    Membership.objects.bulk_create(
        [
            Membership(user=u, structure=structures[k], role=Role.RCP_SECRETARY)
            for k, u in enumerate(secretaries)
        ]
        + [
            Membership(user=u, structure=structures[k // 2], role=Role.PHYSICIAN)
            for k, u in enumerate(physicians)
        ]
        + [Membership(user=u, structure=practice, role=Role.GENERAL_PRACTITIONER) for u in gps]
    )
    return structures, secretaries, physicians, gps


_PATIENT_COLUMNS: Final = (  # noqa: SIM905
    "id uuid created_at updated_at ins_matricule ins_kind birth_name birth_first_names "
    "first_birth_first_name used_name used_first_name sex birth_date birth_place_code "
    "identity_status identity_evidence identity_version general_practitioner_id "
    "objects_to_sharing merged_into_id birth_name_key used_name_key first_name_key"
).split()
_VERSION_COLUMNS: Final = (
    "patient_id",
    "version",
    "identity",
    "recorded_at",
    "recorded_by_id",
    "reason",
)
_IDENTIFIER_COLUMNS: Final = (
    "uuid",
    "created_at",
    "updated_at",
    "patient_id",
    "structure_id",
    "value",
)
_TEAM_COLUMNS: Final = (
    "uuid",
    "created_at",
    "updated_at",
    "patient_id",
    "user_id",
    "source",
    "added_by_id",
    "ended_at",
)


class _Writer:
    """Bulk rows into one table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, model: Any, columns: Sequence[str]) -> None:
        self.table = model._meta.db_table
        self.columns = columns
        names = ", ".join(columns)
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            self.sql = f"COPY {self.table} ({names}) FROM STDIN"
        else:
            marks = ", ".join(["%s"] * len(columns))
            self.sql = f"INSERT INTO {self.table} ({names}) VALUES ({marks})"  # noqa: S608

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(self.sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, rows)


def _next_patient_id() -> int:
    table = Patient._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) + 1 if row else 1


def _defer_checks(skip: bool) -> None:
    """Skip PostgreSQL's per-row foreign-key triggers during the load (superuser only).

    Every generated reference points to a row written in the same transaction or just
    before, so the checks would only cost time (most of it: several lookups per row). Without
    the privilege the checks simply run."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            role = "replica" if skip else "DEFAULT"
            cursor.execute(f"SET LOCAL session_replication_role = {role}")


def _reset_sequence() -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest id by itself
    table = Patient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT MAX(id) FROM {table}))"
        )


def _analyse() -> None:
    """Statistics for the planner (and, outside a transaction, PostgreSQL's visibility map)."""
    tables = [
        m._meta.db_table
        for m in (Patient, PatientIdentifier, PatientIdentityVersion, CareTeamMember)
    ]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("ANALYZE")
        elif connection.in_atomic_block:
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


def load_population(
    count: int,
    seed: int = 0,
    *,
    structures: int = DEFAULT_STRUCTURES,
    force: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> LoadReport:
    """Generate ``count`` patients for ``seed`` and write them as registrations would."""
    check_may_load(seed=seed, force=force)
    started = time.perf_counter()
    postgres = connection.vendor == "postgresql"
    now = timezone.now()

    def stamp(value: dt.datetime | dt.date) -> Any:
        if postgres:
            return value
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return connection.ops.adapt_datefield_value(value)

    def ident(value: uuid.UUID) -> Any:
        return value if postgres else value.hex

    created = stamp(now)
    duplicates = 0
    with transaction.atomic():
        places, secretaries, physicians, gps = _create_structures_and_users(seed, structures)
        structure_ids = [s.pk for s in places]
        secretary_ids = [u.pk for u in secretaries]
        physician_ids = [u.pk for u in physicians]
        gp_ids = [u.pk for u in gps]
        first_id = _next_patient_id()
        _defer_checks(True)
        writers = (
            _Writer(Patient, _PATIENT_COLUMNS),
            _Writer(PatientIdentityVersion, _VERSION_COLUMNS),
            _Writer(PatientIdentifier, _IDENTIFIER_COLUMNS),
            _Writer(CareTeamMember, _TEAM_COLUMNS),
        )
        id_rng = random.Random(seed ^ 0x5EED)  # noqa: S311
        taken = frozenset(
            m[:13]
            for m in Patient.objects.exclude(ins_matricule="")
            .values_list("ins_matricule", flat=True)
            .iterator(chunk_size=50_000)
        )
        people = generate_population(count, seed, structures=structures, taken=taken)
        for chunk_start in range(0, count, BATCH):
            chunk = list(itertools.islice(people, BATCH))
            patients: list[tuple[Any, ...]] = []
            versions: list[tuple[Any, ...]] = []
            identifiers: list[tuple[Any, ...]] = []
            team: list[tuple[Any, ...]] = []
            for offset, p in enumerate(chunk):
                pk = first_id + chunk_start + offset
                duplicates += p.duplicate_of >= 0
                registrar = secretary_ids[p.registrations[0][0]]
                patients.append(
                    (
                        pk,
                        ident(p.uuid),
                        created,
                        created,
                        p.ins_matricule,
                        p.ins_kind,
                        p.birth_name,
                        p.birth_first_names,
                        p.first_birth_first_name,
                        p.used_name,
                        p.used_first_name,
                        p.sex,
                        stamp(p.birth_date),
                        p.birth_place_code,
                        p.identity_status,
                        p.identity_evidence,
                        1,
                        gp_ids[p.general_practitioner] if p.general_practitioner >= 0 else None,
                        p.objects_to_sharing,
                        None,
                        p.birth_name_key,
                        p.used_name_key,
                        p.first_name_key,
                    )
                )
                versions.append(
                    (
                        pk,
                        1,
                        json.dumps(p.identity(), ensure_ascii=False),
                        created,
                        registrar,
                        "Enregistrement",
                    )
                )
                for structure, ipp in p.registrations:
                    identifiers.append(
                        (_uuid(id_rng, ident), created, created, pk, structure_ids[structure], ipp)
                    )
                team.append(
                    (
                        _uuid(id_rng, ident),
                        created,
                        created,
                        pk,
                        registrar,
                        CareTeamSource.REGISTRATION,
                        registrar,
                        None,
                    )
                )
                if p.explicit_team >= 0:
                    physician = physician_ids[2 * p.registrations[0][0] + p.explicit_team]
                    team.append(
                        (
                            _uuid(id_rng, ident),
                            created,
                            created,
                            pk,
                            physician,
                            CareTeamSource.EXPLICIT,
                            registrar,
                            None,
                        )
                    )
            for writer, rows in zip(writers, (patients, versions, identifiers, team), strict=True):
                writer.write(rows)
            log(f"{chunk_start + len(chunk):,} patients ({time.perf_counter() - started:.0f} s)")
        _defer_checks(False)
        _reset_sequence()
        record_event(
            actor=system_actor("dcc synth"),
            action=Action.PATIENT_REGISTERED,
            resource_type="Patient",
            details={
                "synthetic": True,
                "seed": seed,
                "patients": count,
                "near_duplicates": duplicates,
                "structures": [str(s.uuid) for s in places],
            },
        )
    _analyse()
    return LoadReport(
        patients=count,
        near_duplicates=duplicates,
        structures=places,
        physicians=physicians,
        general_practitioners=gps,
        seconds=time.perf_counter() - started,
    )


def _uuid(rng: random.Random, ident: Callable[[uuid.UUID], Any]) -> Any:
    return ident(uuid.UUID(int=rng.getrandbits(128), version=4))
