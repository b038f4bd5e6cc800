"""What an inspection concludes: the kinds accepted and their MIME types, the limits, the
``Verdict`` on an accepted content and the ``RejectedContent`` of a refused one, whose messages
(French, translated) are listed in order of precedence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Kind(StrEnum):
    """What a content was found to be (``ContentKind`` values, see ``choices``)."""

    PDF = "pdf"
    CDA = "cda"
    JPEG = "jpeg"
    PNG = "png"
    TEXT = "text"


MIME = {
    Kind.PDF: "application/pdf",
    Kind.CDA: "text/xml",
    Kind.JPEG: "image/jpeg",
    Kind.PNG: "image/png",
    Kind.TEXT: "text/plain",
}

SNIFF_BYTES = 1024  # the type of anything but a known signature is decided on this much
ROOT_WINDOW = 64 * 1024  # an XML root element must start within this much
ZIP_REACH = 65_557  # a ZIP reader looks for its end record this far from the end
INFLATE_BLOCK = 64 * 1024  # PDF streams are inflated block by block, aligned on this
MAX_INFLATED = 512 * 1024 * 1024
JPEG_PADDING = 32

# In order of precedence: when findings are certain at the same offset, the first is reported.
_MESSAGES = {
    "malware_test_signature": _(
        "Le fichier contient la signature de test antivirus EICAR : il est refusé."
    ),
    "executable": _("Les programmes et les scripts exécutables ne sont pas acceptés."),
    "archive": _(
        "Les archives (ZIP, 7z, RAR, tar…) ne sont pas acceptées : déposez chaque document séparément."
    ),
    "polyglot": _(
        "Le fichier mêle plusieurs formats (par exemple un PDF ou une image contenant aussi une archive ou une page web) : il n'est pas accepté."
    ),
    "html": _(
        "Les pages web (HTML) et les fichiers contenant du code HTML ou des scripts ne sont pas acceptés."
    ),
    "svg": _(
        "Les images SVG ne sont pas acceptées car elles peuvent contenir du code : utilisez PNG, JPEG ou PDF."
    ),
    "xml_doctype": _(
        "Le document XML contient une déclaration DOCTYPE ou des entités, qui ne sont pas acceptées."
    ),
    "xml_active_content": _(
        "Le document CDA contient du contenu actif (HTML, SVG, script ou feuille de style XSLT), qui n'est pas accepté."
    ),
    "pdf_javascript": _("Le PDF contient du JavaScript, qui n'est pas accepté."),
    "pdf_launch": _("Le PDF contient une action qui lance un programme, ce qui n'est pas accepté."),
    "pdf_embedded_file": _(
        "Le PDF contient des fichiers joints, qui ne sont pas acceptés : déposez chaque document séparément."
    ),
    "pdf_rich_media": _(
        "Le PDF contient du contenu multimédia actif (RichMedia), qui n'est pas accepté."
    ),
    "pdf_xfa": _("Le PDF contient un formulaire XFA, qui n'est pas accepté."),
    "pdf_encrypted": _(
        "Le PDF est chiffré ou protégé par un mot de passe, son contenu ne peut pas être contrôlé : enregistrez-le sans protection puis déposez-le à nouveau."
    ),
    "pdf_object_stream": _(
        "Le PDF contient des objets compressés ou masqués qui ne peuvent pas être contrôlés."
    ),
    "pdf_inflate_limit": _("Le PDF contient trop de données compressées pour être contrôlé."),
    "type_mismatch": _("Le contenu du fichier ne correspond pas au type de document annoncé."),
    "cda_not_clinical_document": _(
        "Le fichier XML n'est pas un document CDA : son élément racine doit être ClinicalDocument (espace de noms urn:hl7-org:v3)."
    ),
    "text_encoding": _(
        "Le texte doit être encodé en UTF-8 : ce fichier utilise un autre encodage (par exemple Latin-1 ou UTF-16)."
    ),
    "text_control": _("Le texte contient des caractères de contrôle ou des données binaires."),
    "image_invalid": _("L'image est endommagée : sa structure n'est pas valide."),
    "image_trailing_data": _(
        "L'image est suivie de données supplémentaires (par exemple une vidéo de « photo animée ») : enregistrez-la comme une image simple."
    ),
    "image_truncated": _("L'image est incomplète ou endommagée."),
    "pdf_truncated": _("Le PDF est incomplet ou endommagé : sa marque de fin (%%EOF) est absente."),
    "unknown_type": _(
        "Le type de ce fichier n'est pas reconnu ou n'est pas accepté. Formats acceptés : PDF, document CDA (XML), image JPEG ou PNG, texte UTF-8."
    ),
    "empty": _("Le fichier est vide."),
    "too_large": _("Le fichier dépasse la taille maximale autorisée."),
}
_PRIORITY = {code: rank for rank, code in enumerate(_MESSAGES)}
_KIND_NAMES = {
    Kind.PDF: _("un PDF"),
    Kind.CDA: _("un document CDA"),
    Kind.JPEG: _("une image JPEG"),
    Kind.PNG: _("une image PNG"),
    Kind.TEXT: _("un texte"),
}


class RejectedContent(Exception):
    """The content is refused: ``code`` for machines, ``message`` (French) for the user."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = str(_MESSAGES[code]) if message is None else message
        super().__init__(code, self.message)  # both, so that it survives pickling

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Verdict:
    """An accepted content: its kind, the MIME type to serve it with, observations."""

    kind: Kind
    mime: str
    flags: tuple[str, ...]


def _mismatch(declared: Kind, found: Kind | None) -> str:
    """The message for content of another kind than declared (``None``: XML, not a CDA)."""
    return gettext("Le fichier n'est pas %(declared)s : son contenu est %(found)s.") % {
        "declared": _KIND_NAMES[declared],
        "found": _KIND_NAMES[found] if found else gettext("un document XML"),
    }
