import '@iolab/protocols'; import '@iolab/server-core';
