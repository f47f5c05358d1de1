"""Every feature package's models, imported in one place so metadata (and migrations) see them."""

from app.accounts.models import Invitation, Role, Studio, User  # noqa: F401
from app.galleries.models import (  # noqa: F401
    AccessCard,
    CardClaim,
    Client,
    Gallery,
    GalleryAccess,
    GalleryStatus,
    Photo,
    Registration,
)
from app.mailing.models import OutboxMessage, StudioMailState, Suppression  # noqa: F401
from app.shop.models import (  # noqa: F401
    Cart,
    CartItem,
    Coupon,
    GalleryPricing,
    Order,
    OrderEmailSetting,
    OrderEmailWording,
    OrderItem,
    OrderStatusChange,
    PriceList,
    Product,
    Promotion,
    StudioCounter,
)
from app.sms.models import SmsMessage, SmsSuppression, StudioSmsSettings  # noqa: F401
from app.workflows.models import (  # noqa: F401
    CampaignOccurrence,  # noqa: F401
    GalleryWorkflow,
    Workflow,
    WorkflowEmail,
    WorkflowEmailTranslation,
)
