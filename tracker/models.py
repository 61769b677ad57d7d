"""Every model, imported once so the metadata is complete (for Alembic and tests)."""

from .assessment.models import (  # noqa: F401
    Adjustment,
    Card,
    CardColour,
    CardRule,
    Holiday,
    HolidayYear,
    Publication,
    Recommendation,
    Rectification,
    SchemeItem,
)
from .audit.models import AuditEvent  # noqa: F401
from .auth.models import User  # noqa: F401
from .declarative import Base  # noqa: F401
from .evidence.models import Attachment  # noqa: F401
from .meetings.models import Decision, DecisionEvent, Meeting  # noqa: F401
from .metrics.models import Indicator, MetricValue  # noqa: F401
from .notify.models import Channel, Delivery, JobState, Notification  # noqa: F401
from .org.models import Unit  # noqa: F401
from .plans.models import Assignment, Goal, Measure, Plan, Requirement, Task  # noqa: F401
from .progress.models import ProgressReport, ReportEvent, Urge  # noqa: F401
from .publicity.models import Activity, CommunityList, Creation, PublicityOption  # noqa: F401
from .reports.models import BriefingArchive, DocumentNumber, DocumentNumbering  # noqa: F401
