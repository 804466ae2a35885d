"""Civic311: a resident-facing 311 app. ``create_app`` is the table of contents."""

from __future__ import annotations

from flask import Flask

from webapp.plumbing.config import Config


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, errors, commands."""
    overrides = config if isinstance(config, dict) else vars(config) if config else {}
    app = Flask(__name__, instance_path=overrides.get("INSTANCE_DIR", Config.INSTANCE_DIR))
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)

    # Who hears what in a request's life: the events' subscribers, connected once.
    import webapp.domain.subscriptions  # noqa: F401
    from webapp import cli, i18n, jobs
    from webapp.citypack import settings as city_settings
    from webapp.operations import probes
    from webapp.plumbing import (
        assets,
        database,
        deployment,
        errors,
        inputs,
        json_provider,
        modules,
        request_log,
        security,
        sessions,
    )

    deployment.init_app(app)
    json_provider.init_app(app)
    request_log.init_app(app)
    database.init_app(app)
    city_settings.init_app(app)
    sessions.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    modules.init_app(app)
    inputs.init_app(app)

    from webapp.admin import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.auth import bp as auth_bp
    from webapp.citypack.views import bp as city_bp
    from webapp.help import bp as help_bp
    from webapp.liaison import bp as liaison_bp
    from webapp.open311 import bp as open311_bp
    from webapp.opendata import bp as opendata_bp
    from webapp.resident import bp as resident_bp
    from webapp.sms import bp as sms_bp
    from webapp.staff import bp as staff_bp

    for blueprint in (
        resident_bp,
        auth_bp,
        api_bp,
        open311_bp,
        staff_bp,
        liaison_bp,
        admin_bp,
        opendata_bp,
        help_bp,
        city_bp,
        sms_bp,
    ):
        app.register_blueprint(blueprint)

    probes.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)
    return app
