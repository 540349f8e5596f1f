#!/bin/sh
# List buckets: the cURL request example from the "GET /get-/buckets" reference page.
#
# Differs from the page only in that the base URL and the API key come from the
# environment, so the same file runs against production or a local server:
#   CLOUDNEXUS_BASE_URL  (default https://api.cloudnexus.io)
#   CLOUDNEXUS_API_KEY   (required; stands in for <YOUR_API_KEY>)
# The page shows "®ion" in the URL, an HTML-entity rendering accident; the
# real query string is "&region", used below.
BASE_URL="${CLOUDNEXUS_BASE_URL:-https://api.cloudnexus.io}"
API_KEY="${CLOUDNEXUS_API_KEY:?set CLOUDNEXUS_API_KEY to your API key}"

curl -X GET \
  "${BASE_URL%/}/v1/get-/buckets?limit=25&region=us-east-1" \
  -H "Authorization: Bearer ${API_KEY}" \
  -H "Content-Type: application/json"
