"""The live web page (`live --web`, `demo --web`): a local server, a WebSocket, one static page."""
