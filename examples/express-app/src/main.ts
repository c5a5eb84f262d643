/** `npm start`: the Express demo on http://localhost:3000 (PORT to change it). */
import { setUpDemo, stopOnSignals } from '../../shared/setup.js';
import { createExpressDemo } from './app.js';

const demo = await setUpDemo();
const server = createExpressDemo(demo).listen(demo.port, () => demo.announce('Express'));
stopOnSignals(async () => {
  server.close();
  await demo.close();
});
