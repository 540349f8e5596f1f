// List buckets: the Node.js request example from the "GET /get-/buckets" reference page.
//
// Differs from the page only in that the base URL and the API key come from the
// environment, so the same file runs against production or a local server:
//   CLOUDNEXUS_BASE_URL  (default https://api.cloudnexus.io)
//   CLOUDNEXUS_API_KEY   (required; stands in for <YOUR_API_KEY>)
// Needs `axios`: run `npm install` in this folder first.
const axios = require('axios');

const baseUrl = (process.env.CLOUDNEXUS_BASE_URL || 'https://api.cloudnexus.io').replace(/\/+$/, '');
const apiKey = process.env.CLOUDNEXUS_API_KEY;
if (!apiKey) {
  console.error('set CLOUDNEXUS_API_KEY to your API key');
  process.exit(1);
}

axios.get(`${baseUrl}/v1/get-/buckets`, {
  params: { limit: 25, region: 'us-east-1' },
  headers: { 'Authorization': `Bearer ${apiKey}` }
})
.then(res => console.log(res.data))
.catch(err => console.error(err));
