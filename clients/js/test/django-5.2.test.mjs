// The shared scenarios against the Django reference backend on Django 5.2 LTS (tests/django-backend).
import { backendScenarios } from "./helpers/scenarios.mjs";
import { startDjango } from "./helpers/servers.mjs";

backendScenarios("Django 5.2 reference backend", () => startDjango("5.2"), { throttlesLogins: false });
