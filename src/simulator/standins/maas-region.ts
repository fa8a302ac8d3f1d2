/**
 * Stand-in for `maas-region createadmin` and `maas-region apikey`: same arguments, output and exit
 * codes as the Django management commands (CommandError → "CommandError: …" on stderr, exit 1).
 */
import { parseArgs } from 'node:util';
import { postJson, readStdin, usageError } from './sim-client.ts';

const USAGE = {
  createadmin: 'maas-region createadmin [-h] [--username USERNAME] [--password PASSWORD] [--email EMAIL] [--ssh-import SSH_IMPORT]',
  apikey: 'maas-region apikey [-h] [--username USERNAME] [--generate] [--delete DELETE] [--update UPDATE] [--name NAME] [--with-names]',
};

export async function main(simulatorUrl: string, argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'createadmin' && command !== 'apikey') {
    process.stderr.write(`Unknown command: '${command ?? ''}'\nType 'maas-region help' for usage.\n`);
    return 1;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...rest],
      options:
        command === 'createadmin'
          ? { username: { type: 'string' }, password: { type: 'string' }, email: { type: 'string' }, 'ssh-import': { type: 'string' } }
          : {
              username: { type: 'string' },
              generate: { type: 'boolean' },
              delete: { type: 'string' },
              update: { type: 'string' },
              name: { type: 'string' },
              'with-names': { type: 'boolean' },
            },
      strict: true,
    }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    return usageError(`maas-region ${command}`, USAGE[command], (err as Error).message);
  }
  if (command === 'apikey' && !values.username) {
    process.stderr.write('CommandError: You must provide a username with --username.\n');
    return 1;
  }
  if (command === 'createadmin') {
    // Without --password the real command prompts twice ("Password:", "Again:") through getpass,
    // which reads standard input when there is no terminal.
    if (values.password === undefined && !process.stdin.isTTY) {
      const [password = '', again = ''] = (await readStdin()).split('\n');
      process.stderr.write('Warning: Password input may be echoed.\nPassword: \nWarning: Password input may be echoed.\nAgain: \n');
      if (password !== again) {
        process.stderr.write('InconsistentPassword: Passwords do not match\n');
        return 1;
      }
      values.password = password;
    }
    const missing = ['username', 'password', 'email'].filter((name) => !values[name]);
    if (missing.length > 0) {
      // The real command prompts; with nothing to read it fails like this.
      process.stderr.write(`CommandError: ${missing.map((m) => `--${m}`).join(', ')} must be given when not run interactively.\n`);
      return 1;
    }
  }
  const { status, json } = await postJson(new URL(`/_sim/region/${command}`, simulatorUrl).href, {
    username: values.username,
    ...(command === 'createadmin' ? { password: values.password, email: values.email } : { generate: values.generate === true }),
  });
  if (status !== 200) {
    process.stderr.write(`CommandError: ${String(json.message ?? json.error ?? `simulator answered ${status}`)}\n`);
    return 1;
  }
  process.stdout.write(String(json.stdout ?? ''));
  process.stderr.write(String(json.stderr ?? ''));
  return Number(json.exitCode ?? 1);
}
