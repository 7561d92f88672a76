import { runDemo } from './demo.js';

const baseUrl = process.env.BASE_URL ?? 'http://127.0.0.1:4000';
const token = process.env.TOKEN;
if (!token) {
  console.error('TOKEN=<an editor token> (npm run token -- --sub me --orgs HOLNG --role editor)');
  process.exit(2);
}
runDemo({ baseUrl, token }, process.env.ORG ?? 'HOLNG').then(
  (report) => console.log(JSON.stringify(report, null, 2)),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
