from django import template

from dcc.interop.terminology import value_sets

register = template.Library()


@register.filter
def document_type(code: str) -> str:
    """The display name of a document type code (JDV_J07)."""
    concept = value_sets.document_type(code)
    return concept.display if concept is not None else code
