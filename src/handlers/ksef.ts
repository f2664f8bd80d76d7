import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';
import { planned } from './planned';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'getConnection' | 'getOutageSimulation' | 'setOutageSimulation' | 'getCredentials' | 'putCredentials'>;

export const ksefHandlers: Handlers = {
  getConnection: planned('The KSeF connection check', 'ksef-proxy'),
  getOutageSimulation: planned('Outage simulation', 'offline mode and outage simulation'),
  setOutageSimulation: planned('Outage simulation', 'offline mode and outage simulation'),
  getCredentials: planned('KSeF credentials', 'ksef-proxy'),
  putCredentials: planned('KSeF credentials', 'ksef-proxy'),
};
