/** The CLI's command table: each command module is imported on dispatch, and the table says what the module says. */
import t from 'tap';
import { COMMANDS } from '../../src/cli.js';

t.test('each lazily loaded command has the name and summary the usage text shows', async (t) => {
  for (const entry of COMMANDS) {
    const command = await entry.load();
    t.equal(command.name, entry.name, `${entry.name}: name`);
    t.equal(command.summary, entry.summary, `${entry.name}: summary`);
  }
});
