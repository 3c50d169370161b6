// Preload (node --import) that makes every server in the process listen on 127.0.0.1 when the code
// under test calls listen(port[, cb]) without a host (the MCP SDK example server does that, which
// would bind all interfaces). Test traffic stays on loopback.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenLoopback(...args) {
    if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
        if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
    } else if (args[0] && typeof args[0] === 'object' && args[0].path === undefined && args[0].host === undefined) {
        args[0] = { ...args[0], host: '127.0.0.1' };
    }
    return listen.apply(this, args);
};
