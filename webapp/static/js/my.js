/* My requests: the server lists what was sent; this adds what is still on the phone
 * (waiting or needing attention) and keeps sending it. */

import { startOutbox } from "./outbox.js";

startOutbox();
