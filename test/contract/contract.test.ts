import t from 'tap';
import { runContract } from './run.js';

runContract(t);
