# List buckets: the Python request example from the "GET /get-/buckets" reference page.
#
# Differs from the page only in that the base URL and the API key come from the
# environment, so the same file runs against production or a local server:
#   CLOUDNEXUS_BASE_URL  (default https://api.cloudnexus.io)
#   CLOUDNEXUS_API_KEY   (required; stands in for <YOUR_API_KEY>)
# Needs the `requests` package: python3 -m pip install requests
import os

import requests

BASE_URL = os.environ.get("CLOUDNEXUS_BASE_URL", "https://api.cloudnexus.io").rstrip("/")
API_KEY = os.environ["CLOUDNEXUS_API_KEY"]

response = requests.get(
    f"{BASE_URL}/v1/get-/buckets",
    params={"limit": 25, "region": "us-east-1"},
    headers={"Authorization": f"Bearer {API_KEY}"}
)
print(response.json())
