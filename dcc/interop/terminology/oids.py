"""OIDs of the identifier and code systems dcc uses (sources: ../shared/domain.md §0)."""

IDNATPS = "1.2.250.1.71.4.2.1"
IDNATSTRUCT = "1.2.250.1.71.4.2.2"
TRE_G15_PROFESSION = "1.2.250.1.213.1.1.4.5"
JDV_J01_AUTHOR_SPECIALTY = "1.2.250.1.213.1.1.5.461"

# INS matricule kinds (FR Core Patient INS profile; ../shared/domain.md §5).
INS_NIR = "1.2.250.1.213.1.4.8"
INS_NIA = "1.2.250.1.213.1.4.9"
INS_NIR_TEST = "1.2.250.1.213.1.4.10"
INS_NIR_DEMO = "1.2.250.1.213.1.4.11"
