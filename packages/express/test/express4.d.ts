// The Express 4 install under the alias "express4" shares the Express 5 typings for the parity tests.
declare module 'express4' {
  import express from 'express';
  export default express;
}
