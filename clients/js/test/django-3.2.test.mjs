// The shared scenarios against the Django reference backend on Debian 12's Django 3.2, which keeps a masked 64-character
// token in the csrftoken cookie and words its CSRF failures differently.
import { backendScenarios } from "./helpers/scenarios.mjs";
import { startDjango } from "./helpers/servers.mjs";

backendScenarios("Django 3.2 reference backend", () => startDjango("3.2"), { throttlesLogins: false });
