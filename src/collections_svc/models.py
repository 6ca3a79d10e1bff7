"""Imports every domain's models so Base.metadata is complete (for Alembic and tests)."""

from collections_svc.audit import models as _audit  # noqa: F401
from collections_svc.auth import models as _auth  # noqa: F401
from collections_svc.db import Base
from collections_svc.loans import models as _loans  # noqa: F401

metadata = Base.metadata
from collections_svc.approvals import models as _approvals  # noqa: F401,E402
from collections_svc.cases import models as _cases  # noqa: F401,E402
from collections_svc.legal import models as _legal  # noqa: F401,E402
from collections_svc.monitoring import models as _monitoring  # noqa: F401,E402
from collections_svc.notices import models as _notices  # noqa: F401,E402
from collections_svc.reports import models as _reports  # noqa: F401,E402
from collections_svc.restructuring import models as _restructuring  # noqa: F401,E402
from collections_svc.strategy import models as _strategy  # noqa: F401,E402
from collections_svc.sweep import models as _sweep  # noqa: F401,E402
