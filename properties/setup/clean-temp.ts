/** Per test file (vitest.config.ts `setupFiles`): remove the temp folders its tests made. */
import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers.ts';

afterAll(() => removeTempDirs());
