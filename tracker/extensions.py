"""Flask extension objects, bound to the app in create_app. (CSRF protection is bound with the pages: see
`tracker._assemble_csrf`.)"""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
